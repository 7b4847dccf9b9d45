"""Volumes: list, create, usage, and browsing — from this server's file system when the volume
is mounted here (fd-relative, no symlink followed), else through the registry."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..domain.mounts import Mount, MountKind
from . import bodies, checks, listing
from .base import Json, ManagerBase


class VolumeVerbs(ManagerBase):
    async def volumes(
        self, q: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        size = checks.limit(limit)
        page = await self.client().page("/volumes", q=q, limit=size, cursor=cursor)
        where = self.volume_paths()
        page["items"] = [self.volume_json(v, where) for v in page["items"]]
        return page

    async def volume(self, volume_id: str) -> Json:
        v = await self.client().get_json(f"/volumes/{checks.q(volume_id)}")
        return self.volume_json(v, self.volume_paths())

    async def create_volume(self, body: Json) -> Json:
        v = await self.client().post_volume(bodies.check(body, "VolumeCreate"))
        return self.volume_json(v.raw, self.volume_paths())

    def _local(self, volume_id: str, path: str) -> tuple[Mount, str] | None:
        """(mount, path inside the mount) when this server can read ``path`` of the volume."""
        m = next(
            (
                m
                for m in self.safe_mounts()
                if m.kind is MountKind.volume and m.volume_id == volume_id
            ),
            None,
        )
        if m is None:
            return None
        sub = "/".join(listing.split(m.sub_path))
        rel = "/".join(listing.split(path or ""))
        if sub and not (rel == sub or rel.startswith(sub + "/")):
            return None  # a folder of the volume outside what is mounted here
        return m, rel[len(sub) :].lstrip("/")

    async def tree(
        self,
        volume_id: str,
        path: str = "",
        *,
        q: str | None = None,
        limit: Any = None,
        cursor: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Json:
        """A page of a folder, or of a name search below it (``cancel`` stops a search)."""
        size = checks.limit(limit)
        path = path or ""
        local = self._local(volume_id, path)
        if local is None:
            page = await self.client().tree_page(volume_id, path, q_=q, limit=size, cursor=cursor)
            return {**page, "q": q, "source": "registry", "mount_path": None}
        m, rel = local
        sub = "/".join(listing.split(m.sub_path))

        def work() -> listing.Listing:
            if q:
                deadline = time.monotonic() + self.search_seconds
                return listing.search(
                    m.mount_path, rel, q, limit=size, cursor=cursor,
                    budget=self.search_budget, deadline=deadline, cancel=cancel,
                )  # fmt: skip
            return listing.list_dir(m.mount_path, rel, limit=size, cursor=cursor)

        result = await self.blocking(work)
        items = []
        for e in result.items:
            item = e.to_json()
            item["path"] = f"{sub}/{e.path}" if sub else e.path
            items.append(item)
        return {
            "volume_id": volume_id,
            "path": "/".join(listing.split(path)),
            "q": q,
            "source": "local",
            "mount_path": m.mount_path,
            "items": items,
            "next_cursor": result.next_cursor,
            "truncated": result.truncated,
        }

    async def summary(self, volume_id: str, path: str = "") -> Json:
        """Files, bytes and a suggested data type (the wizard's third step)."""
        local = self._local(volume_id, path or "")
        if local is not None:
            m, rel = local
            counts = await self.blocking(
                lambda: listing.summarize(m.mount_path, rel, budget=self.search_budget)
            )
        else:  # through the registry: the folder's first page only
            page = await self.client().tree_page(volume_id, path or "", limit=1000)
            by_type: dict[str, int] = {}
            files = [e for e in page["items"] if e["type"] == "file"]
            for e in files:
                kind = listing.data_type_of(e["name"])
                by_type[kind] = by_type.get(kind, 0) + 1
            counts = {
                "files": len(files),
                "dirs": sum(e["type"] == "dir" for e in page["items"]),
                "bytes": sum(e["size"] or 0 for e in files),
                "by_data_type": by_type,
                "extensions": {},
                "suggested_data_type": listing.suggest(by_type),
                "truncated": True,
            }
        return {"volume_id": volume_id, "path": path or "", **counts}
