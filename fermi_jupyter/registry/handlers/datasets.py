"""/api/v1/datasets: list/search, create, get, update, delete, aliases."""

from __future__ import annotations

from ..managers import datasets as mgr
from ..managers import versions as versions_mgr
from .base import BaseHandler


class DatasetsHandler(BaseHandler):
    async def get(self) -> None:
        limit, cursor = self.page_args()
        who, filters = (
            self.identity,
            {
                "q": self.arg("q"),
                "scope": self.arg("scope") or self.arg("visibility") or "all",
                "owner": self.arg("owner"),
                "tag": self.arg("tag"),
                "data_type": self.arg("data_type"),
            },
        )

        def page(db):  # type: ignore[no-untyped-def]
            rows, nxt = mgr.list_(db, who, limit=limit, cursor=cursor, **filters)
            return {"items": mgr.to_json(db, rows), "next_cursor": nxt}

        self.write_json(await self.call(page))

    async def post(self) -> None:
        body, who = self.body("DatasetCreate"), self.identity
        out = await self.call(lambda db: mgr.to_json(db, [mgr.create(db, who, body)])[0])
        self.set_header("Location", f"{self.ctx.base_path}api/v1/datasets/{out['id']}")
        self.write_json(out, status=201)


class DatasetHandler(BaseHandler):
    async def get(self, ref: str) -> None:
        who = self.identity
        self.write_json(await self.call(lambda db: mgr.to_json(db, [mgr.read(db, who, ref)])[0]))

    async def patch(self, ref: str) -> None:
        body, who = self.body("DatasetUpdate"), self.identity

        def change(db):  # type: ignore[no-untyped-def]
            ds = mgr.update(db, who, mgr.resolve(db, who, ref), body)
            return mgr.to_json(db, [ds])[0]

        self.write_json(await self.call(change))

    async def delete(self, ref: str) -> None:
        who, layout = self.identity, self.ctx.layout
        await self.call(
            lambda db: versions_mgr.delete_dataset(db, layout, who, mgr.resolve(db, who, ref))
        )
        self.set_status(204)
        self.finish()


class AliasHandler(BaseHandler):
    async def put(self, ref: str, name: str) -> None:
        body, who = self.body("AliasTarget"), self.identity

        def move(db):  # type: ignore[no-untyped-def]
            ds = mgr.resolve(db, who, ref)
            alias = mgr.set_alias(db, who, ds, name, body["version"])
            return {"dataset_id": ds.id, "name": alias.name, "version": alias.number}

        self.write_json(await self.call(move))

    async def delete(self, ref: str, name: str) -> None:
        who = self.identity
        await self.call(lambda db: mgr.delete_alias(db, who, mgr.resolve(db, who, ref), name))
        self.set_status(204)
        self.finish()
