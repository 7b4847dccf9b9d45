"""``WorkspaceManager``: every verb of the notebook side, as the server extension answers it.

The jupyter_server shape: handlers parse and write, this class decides. It knows this server's
mounts (``FERMI_MOUNTS``), browses mounted volumes from the local file system, and asks the
registry (as the server's owner, through one ``AsyncRegistryClient``) for everything else.
Results are the JSON shapes of ``workspace.shapes``. The verbs live in one module per resource
(``volumes``, ``datasets``, ``versions``, ``transfers``); the CLI and magics use the same class
through its sync face, ``workspace.sync.Workspace``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from .. import __version__
from ..client import FermiError
from ..domain.mounts import Mount, MountKind
from ..domain.states import VersionStatus
from ..mounts import MountError
from . import sse
from .base import IN_FLIGHT_VALUES, Json, error_json
from .datasets import DatasetVerbs
from .reasons import Reason
from .transfers import TransferVerbs
from .versions import VersionVerbs
from .volumes import VolumeVerbs


class WorkspaceManager(VolumeVerbs, DatasetVerbs, VersionVerbs, TransferVerbs):
    async def info(self) -> Json:
        """This extension: version, who it acts as, whether the registry answers."""
        url, _ = self.registry()
        out: Json = {
            "version": __version__,
            "user": (self.env or os.environ).get("JUPYTERHUB_USER"),
            "registry_configured": bool(url),
            "registry_reachable": False,
            "registry_error": None,
            "mounts": 0,
            "stall_after": self.tracker.stall_after,
            "reasons": [r.value for r in Reason],
        }
        with contextlib.suppress(MountError):
            out["mounts"] = len(self.mounts_here())
        try:
            await self.client().get_json("/health")
            out["registry_reachable"] = True
        except FermiError as e:
            out["registry_error"] = error_json(e)
        return out

    async def mounts(self) -> Json:
        """This server's mounts in plan order, each dataset mount with its version's status."""
        here = self.mounts_here()
        items = [self._mount_json(m) for m in here]
        registry_error = None
        asks = [(i, m) for i, m in enumerate(here) if m.kind is MountKind.dataset and m.ref]
        if asks:
            try:
                client = self.client()
                answers = await asyncio.gather(
                    *(client.version(m.dataset_id or "", m.version or 0) for _, m in asks),
                    return_exceptions=True,
                )
                for (i, _), answer in zip(asks, answers, strict=True):
                    if isinstance(answer, FermiError):
                        registry_error = registry_error or error_json(answer)
                    elif isinstance(answer, BaseException):
                        raise answer
                    else:
                        items[i]["status"] = answer.status
            except FermiError as e:
                registry_error = error_json(e)
        return {"items": items, "registry_error": registry_error}

    def _mount_json(self, m: Mount) -> Json:
        return {
            **m.to_json(),
            "label": m.name,
            "status": None,
            "present": os.path.isdir(m.mount_path),
            "browser_path": self.browser_path(m.mount_path),
        }

    def browser_path(self, path: str) -> str | None:
        """``path`` as Lab's file browser names it (relative to the server root), if it can."""
        root = os.path.realpath(self.cwd())
        real = os.path.realpath(path)
        if real == root or real.startswith(root.rstrip("/") + "/"):
            return os.path.relpath(real, root) if real != root else ""
        try:  # a link in the root (e.g. ~/workspace → /workspace) reaches it too
            with os.scandir(root) as it:
                for e in it:
                    if e.is_symlink() and os.path.realpath(e.path) == real:
                        return e.name
        except OSError:
            pass
        return None

    # -- events -------------------------------------------------------------------------------
    def event_json(self, event: sse.Event) -> sse.Event:
        """A registry event with its progress enriched (rate, ETA, stalled since)."""
        data = event.data
        if event.type == "version":
            status = data.get("status")
            active = status in IN_FLIGHT_VALUES or (
                data.get("job_state") in ("queued", "running")
                and status == VersionStatus.processing.value
            )
            key = (
                f"v:{data.get('ref')}"
                if data.get("job_kind") in (None, "register")
                else f"j:{data.get('job_id')}"
            )
            data = {
                **data,
                "progress": self.tracker.enrich(key, data.get("progress"), active=active),
            }
        return sse.Event(event.id, event.type, data)

    async def events(
        self, *, last_event_id: str | None = None, dataset_id: str | None = None
    ) -> AsyncIterator[sse.Event]:
        """The registry's events as they come, progress enriched (the CLI's ``events``; the
        extension shares one upstream among its tabs through ``workspace.events``)."""
        async with self.client().stream_events(
            last_event_id=last_event_id, dataset_id=dataset_id
        ) as r:
            async for event in sse.parse(r.aiter_lines()):
                yield self.event_json(event)
