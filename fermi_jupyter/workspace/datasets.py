"""Datasets: search, create (optionally with version 1 from a folder), edit, delete, aliases."""

from __future__ import annotations

import contextlib
from typing import Any

from ..client import FermiError
from . import bodies, checks
from .base import Json, ManagerBase

SCOPES = ["all", "mine", "team", "org", "public"]
FIELDS = ("description", "tags", "visibility", "team", "data_type", "zone")


class DatasetVerbs(ManagerBase):
    async def datasets(
        self,
        limit: Any = None,
        *,
        q: str | None = None,
        scope: str | None = None,
        tag: str | None = None,
        owner: str | None = None,
        data_type: str | None = None,
        cursor: str | None = None,
    ) -> Json:
        size = checks.limit(limit)
        checks.choice("scope", scope, SCOPES)
        page = await self.client().page(
            "/datasets", q=q, scope=scope, tag=tag, owner=owner, data_type=data_type,
            limit=size, cursor=cursor,
        )  # fmt: skip
        mounted = self.mounted_numbers()
        page["items"] = [self.dataset_json(d, mounted) for d in page["items"]]
        return page

    async def dataset(self, ref: str) -> Json:
        return self.dataset_json(await self.client().get_json(f"/datasets/{checks.q(ref)}"))

    async def create_dataset(self, body: Json) -> Json:
        """A dataset; with ``version``, version 1 from a folder too — and if that registration
        is refused, the dataset is deleted again, so a refusal leaves nothing behind."""
        bodies.check(body, "DatasetCreate")
        client = self.client()
        fields = {k: body[k] for k in FIELDS if k in body}
        spec = body.get("version")
        if spec is None:
            ds = await client.create_dataset(body["name"], **fields)
            return {"dataset": self.dataset_json(ds.raw), "version": None}
        volume_id, sub, common = self.registration(spec)  # refuse a bad path before creating
        ds = await client.create_dataset(body["name"], **fields)
        try:
            v = await client.register(ds.id, volume_id, sub, **common)
        except FermiError:
            with contextlib.suppress(FermiError):  # the refusal is the error worth showing
                await client.delete_dataset(ds.id)
            raise
        return {"dataset": self.dataset_json(ds.raw), "version": self.version_json(v.raw)}

    async def update_dataset(self, ref: str, body: Json) -> Json:
        ds = await self.client().patch_dataset(ref, bodies.check(body, "DatasetFields"))
        return self.dataset_json(ds.raw)

    async def delete_dataset(self, ref: str) -> None:
        await self.client().delete_dataset(ref)

    async def set_alias(self, ref: str, name: str, body: Json) -> Json:
        body = bodies.check(body, "AliasSet")
        return await self.client().set_alias(ref, name, body["version"])

    async def delete_alias(self, ref: str, name: str) -> None:
        await self.client().delete_alias(ref, name)
