"""/api/v1/datasets: list/search, create, get, update, delete, aliases."""

from __future__ import annotations

from ..managers import datasets as mgr
from ..managers import versions as versions_mgr
from ..orm import Dataset
from ..serialize import dataset_json
from .base import BaseHandler


class DatasetsBase(BaseHandler):
    def render(self, rows: list[Dataset]) -> list[dict]:
        ids = [d.id for d in rows]
        latest = mgr.latest_numbers(self.db, ids)
        aliases = mgr.aliases_of(self.db, ids)
        return [dataset_json(d, latest=latest.get(d.id), aliases=aliases[d.id]) for d in rows]


class DatasetsHandler(DatasetsBase):
    def get(self) -> None:
        limit, cursor = self.page_args()
        rows, nxt = mgr.list_(
            self.db,
            self.identity,
            q=self.arg("q"),
            scope=self.arg("scope") or self.arg("visibility") or "all",
            owner=self.arg("owner"),
            tag=self.arg("tag"),
            data_type=self.arg("data_type"),
            limit=limit,
            cursor=cursor,
        )
        self.write_json({"items": self.render(rows), "next_cursor": nxt})

    def post(self) -> None:
        ds = mgr.create(self.db, self.identity, self.json_body())
        self.set_header("Location", f"{self.ctx.base_path}api/v1/datasets/{ds.id}")
        self.write_json(self.render([ds])[0], status=201)


class DatasetHandler(DatasetsBase):
    def get(self, ref: str) -> None:
        self.write_json(self.render([mgr.resolve(self.db, self.identity, ref)])[0])

    def patch(self, ref: str) -> None:
        ds = mgr.resolve(self.db, self.identity, ref)
        ds = mgr.update(self.db, self.identity, ds, self.json_body())
        self.write_json(self.render([ds])[0])

    def delete(self, ref: str) -> None:
        ds = mgr.resolve(self.db, self.identity, ref)
        versions_mgr.delete_dataset(self.db, self.ctx.layout, self.identity, ds)
        self.set_status(204)
        self.finish()


class AliasHandler(DatasetsBase):
    def put(self, ref: str, name: str) -> None:
        ds = mgr.resolve(self.db, self.identity, ref)
        alias = mgr.set_alias(self.db, self.identity, ds, name, self.json_body().get("version"))
        self.write_json({"dataset_id": ds.id, "name": alias.name, "version": alias.number})

    def delete(self, ref: str, name: str) -> None:
        ds = mgr.resolve(self.db, self.identity, ref)
        mgr.delete_alias(self.db, self.identity, ds, name)
        self.set_status(204)
        self.finish()
