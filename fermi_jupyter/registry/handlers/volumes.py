"""/api/v1/volumes: list, create, get, tree."""

from __future__ import annotations

import asyncio

from ..managers import volumes as mgr
from ..serialize import volume_json
from .base import BaseHandler


class VolumeBase(BaseHandler):
    def _usage(self, vol):  # type: ignore[no-untyped-def]
        if vol.backend != "root":
            return None
        return self.ctx.usage.get(vol.id, self.ctx.layout.volume_dir(vol.id))

    async def _fresh_usage(self, vol):  # type: ignore[no-untyped-def]
        """Usage computed now (off the event loop): one volume is asked for when someone looks."""
        if vol.backend != "root":
            return None
        path = self.ctx.layout.volume_dir(vol.id)
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.ctx.usage.get(vol.id, path, wait=True, max_age=0.0)
        )


class VolumesHandler(VolumeBase):
    def get(self) -> None:
        limit, cursor = self.page_args()
        rows, nxt = mgr.list_(self.db, self.identity, q=self.arg("q"), limit=limit, cursor=cursor)
        items = [volume_json(v, self._usage(v)) for v in rows]
        self.write_json({"items": items, "next_cursor": nxt})

    async def post(self) -> None:
        vol = mgr.create(self.db, self.ctx.layout, self.identity, self.json_body())
        self.set_header("Location", f"{self.ctx.base_path}api/v1/volumes/{vol.id}")
        self.write_json(volume_json(vol, await self._fresh_usage(vol)), status=201)


class VolumeHandler(VolumeBase):
    async def get(self, vol_id: str) -> None:
        vol = mgr.get(self.db, self.identity, vol_id)
        self.write_json(volume_json(vol, await self._fresh_usage(vol)))


class VolumeTreeHandler(BaseHandler):
    def get(self, vol_id: str) -> None:
        vol = mgr.get(self.db, self.identity, vol_id)
        limit, cursor = self.page_args()
        self.write_json(
            mgr.tree(
                self.ctx.layout,
                vol,
                path=self.get_argument("path", ""),
                q=self.arg("q"),
                limit=limit,
                cursor=cursor,
            )
        )
