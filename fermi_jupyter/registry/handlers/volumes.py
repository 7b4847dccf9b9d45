"""/api/v1/volumes: list, create, get, tree."""

from __future__ import annotations

import asyncio

from ..managers import volumes as mgr
from ..orm import Volume
from ..serialize import volume_json
from .base import BaseHandler


class VolumeBase(BaseHandler):
    def _usage(self, vol: Volume):  # type: ignore[no-untyped-def]
        if vol.backend != "root":
            return None
        return self.ctx.usage.get(vol.id, self.ctx.layout.volume_dir(vol.id))

    async def _fresh_usage(self, vol: Volume):  # type: ignore[no-untyped-def]
        """Usage computed now (off the event loop): one volume is asked for when someone looks."""
        if vol.backend != "root":
            return None
        path = self.ctx.layout.volume_dir(vol.id)
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.ctx.usage.get(vol.id, path, wait=True, max_age=0.0)
        )


class VolumesHandler(VolumeBase):
    async def get(self) -> None:
        limit, cursor = self.page_args()
        who, q = self.identity, self.arg("q")

        def page(db):  # type: ignore[no-untyped-def]
            rows, nxt = mgr.list_(db, who, q=q, limit=limit, cursor=cursor)
            return {"items": [volume_json(v, self._usage(v)) for v in rows], "next_cursor": nxt}

        self.write_json(await self.call(page))

    async def post(self) -> None:
        body, who, layout = self.body("VolumeCreate"), self.identity, self.ctx.layout
        vol = await self.call(lambda db: mgr.create(db, layout, who, body))
        self.set_header("Location", f"{self.ctx.base_path}api/v1/volumes/{vol.id}")
        self.write_json(volume_json(vol, await self._fresh_usage(vol)), status=201)


class VolumeHandler(VolumeBase):
    async def get(self, vol_id: str) -> None:
        who = self.identity
        vol = await self.call(lambda db: mgr.get(db, who, vol_id))
        self.write_json(volume_json(vol, await self._fresh_usage(vol)))


class VolumeTreeHandler(BaseHandler):
    async def get(self, vol_id: str) -> None:
        limit, cursor = self.page_args()
        who, layout = self.identity, self.ctx.layout
        path, q = self.get_argument("path", ""), self.arg("q")

        def listing(db):  # type: ignore[no-untyped-def]
            vol = mgr.get(db, who, vol_id)
            return mgr.tree(layout, vol, path=path, q=q, limit=limit, cursor=cursor)

        self.write_json(await self.call(listing))
