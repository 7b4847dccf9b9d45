"""What every verb of the workspace manager stands on: the one registry client, this server's
mounts, and the registry's JSON turned into the shapes of ``workspace.shapes``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from ..client import AsyncRegistryClient, FermiError
from ..domain.mounts import Mount, MountKind
from ..domain.states import IN_FLIGHT, JOB_ACTIVE, Mode
from ..domain.states import VersionStatus as VS
from ..mounts import MountError, load_mounts, locate, parents
from . import listing
from .errors import WorkspaceError
from .progress import ProgressTracker
from .reasons import Reason, coerce

Json = dict[str, Any]
IN_FLIGHT_VALUES = {s.value for s in IN_FLIGHT}
JOB_ACTIVE_VALUES = {s.value for s in JOB_ACTIVE}


def error_json(e: FermiError) -> Json:
    status = e.status or 400
    return {"message": str(e), "reason": coerce(e.reason, status).value}


class ManagerBase:
    def __init__(
        self,
        registry: Callable[[], tuple[str, str]],
        *,
        root_dir: str | None = None,
        tracker: ProgressTracker | None = None,
        search_budget: int = 50_000,
        search_seconds: float = 2.0,
        env: dict[str, str] | None = None,
    ):
        """``registry()`` gives (url, token) when a client is needed, so configuration
        changes take effect; ``root_dir`` anchors relative local paths (None: the cwd);
        ``env`` replaces ``os.environ`` (tests)."""
        self.registry = registry
        self.root_dir = root_dir
        self.tracker = tracker or ProgressTracker()
        self.search_budget = search_budget
        self.search_seconds = search_seconds
        self.env = env
        self._client: AsyncRegistryClient | None = None
        self._client_key: tuple[str, str] | None = None
        self._closing: set[asyncio.Future] = set()

    # -- plumbing -----------------------------------------------------------------------------
    def client(self) -> AsyncRegistryClient:
        """The one client, rebuilt only when the URL or token changes."""
        url, token = self.registry()
        if not url:
            raise WorkspaceError(
                "no registry is configured: start this server from the hub, or set "
                "FERMI_REGISTRY_URL (c.FermiExtension.registry_url)",
                Reason.no_registry_url,
            )
        if self._client is None or self._client_key != (url, token):
            old = self._client
            self._client = AsyncRegistryClient(url, token or None)
            self._client_key = (url, token)
            if old is not None:
                closing = asyncio.ensure_future(old.aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def mounts_here(self) -> list[Mount]:
        """This server's mounts; ``MountError`` (bad-plan) when FERMI_MOUNTS is unreadable."""
        return load_mounts(self.env)

    def safe_mounts(self) -> list[Mount]:
        """The mounts, or none when the plan is unreadable (for decorating answers)."""
        try:
            return self.mounts_here()
        except MountError:
            return []

    def cwd(self) -> str:
        return self.root_dir or os.getcwd()

    async def blocking(self, fn: Callable[[], Any]) -> Any:
        """File-system work off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    # -- the registry's JSON, as this server shows it -----------------------------------------
    def mounted_numbers(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for m in self.safe_mounts():
            if m.kind is MountKind.dataset and m.dataset_id and m.version:
                out.setdefault(m.dataset_id, []).append(m.version)
        return out

    def dataset_json(self, d: Json, mounted: dict[str, list[int]] | None = None) -> Json:
        mounted = self.mounted_numbers() if mounted is None else mounted
        return {**d, "mounted_here": sorted(mounted.get(d.get("id", ""), []))}

    def version_json(self, v: Json) -> Json:
        here = {m.ref for m in self.safe_mounts() if m.ref}
        status = v.get("status", VS.pending.value)
        name = v.get("dataset_name")
        return {
            **{k: val for k, val in v.items() if k != "storage_path"},
            "label": f"{name}@{v.get('number')}" if name else v.get("ref", ""),
            "mounted_here": v.get("ref") in here,
            "progress": self.tracker.enrich(
                f"v:{v.get('ref')}", v.get("progress"), active=status in IN_FLIGHT_VALUES
            ),
        }

    def job_json(self, j: Json) -> Json:
        active = j.get("state") in JOB_ACTIVE_VALUES
        progress = self.tracker.enrich(f"j:{j.get('id')}", j.get("progress"), active=active)
        return {**j, "progress": progress}

    def volume_paths(self) -> dict[str, str]:
        """{volume id: where this server mounts it}."""
        return {
            m.volume_id: m.mount_path
            for m in self.safe_mounts()
            if m.kind is MountKind.volume and m.volume_id
        }

    @staticmethod
    def volume_json(v: Json, where: dict[str, str]) -> Json:
        v = {k: val for k, val in v.items() if k != "storage_path"}
        v["mount_path"] = where.get(v.get("id", ""))
        v.setdefault("usage", None)
        return v

    # -- where a registration reads from ----------------------------------------------------
    def registration(self, body: Json) -> tuple[str, str, Json]:
        """(volume id, folder in the volume, mode/message/parents) of a VersionCreate body
        (already checked against its schema): a local path is mapped through the mounts."""
        if body.get("volume_id") is not None:
            volume_id, sub = body["volume_id"], "/".join(listing.split(body["path"]))
        else:
            mount, sub = locate(body["path"], self.mounts_here(), cwd=self.cwd())
            volume_id = mount.volume_id or ""
        lineage = body.get("parents")
        if lineage is None:
            lineage = parents(self.safe_mounts())
        common = {
            "mode": body.get("mode", Mode.snapshot.value),
            "message": body.get("message") or "",
            "parents": lineage,
        }
        return volume_id, sub, common
