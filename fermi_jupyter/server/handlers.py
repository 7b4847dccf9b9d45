"""Thin handlers under ``{base_url}api/fermi/``: parse, call the workspace manager, write JSON.

Every error is ``{"message", "reason"}`` with a reason of ``workspace.reasons.Reason``.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..workspace.errors import WorkspaceError
from ..workspace.reasons import Reason
from ..workspace.sse import Event
from .base import AUTH_RESOURCE, FermiHandler
from .transfer_handlers import TRANSFER_ROUTES

__all__ = ["AUTH_RESOURCE", "NO_ROUTE", "ROUTES", "FermiHandler"]


class InfoHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.manager.info())


class MountsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.manager.mounts())


class VolumesHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        m = self.manager
        self.write_json(await m.volumes(self.arg("q"), self.arg("limit"), self.arg("cursor")))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json(await self.manager.create_volume(self.body()), status=201)


class VolumeHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, volume_id: str) -> None:
        self.write_json(await self.manager.volume(volume_id))


class TreeHandler(FermiHandler):
    """A search is stopped when the browser goes away (the sidebar's cancel)."""

    @web.authenticated
    @authorized
    async def get(self, volume_id: str) -> None:
        self._cancel = threading.Event()
        page = await self.manager.tree(
            volume_id,
            self.get_argument("path", ""),
            q=self.arg("q"),
            limit=self.arg("limit"),
            cursor=self.arg("cursor"),
            cancel=self._cancel,
        )
        self.write_json(page)

    def on_connection_close(self) -> None:
        if hasattr(self, "_cancel"):
            self._cancel.set()


class SummaryHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, volume_id: str) -> None:
        self.write_json(await self.manager.summary(volume_id, self.get_argument("path", "")))


class DatasetsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        params = {k: self.arg(k) for k in ("q", "scope", "tag", "owner", "data_type", "cursor")}
        self.write_json(await self.manager.datasets(self.arg("limit"), **params))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json(await self.manager.create_dataset(self.body()), status=201)


class DatasetHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        self.write_json(await self.manager.dataset(ref))

    @web.authenticated
    @authorized
    async def patch(self, ref: str) -> None:
        self.write_json(await self.manager.update_dataset(ref, self.body()))

    @web.authenticated
    @authorized
    async def delete(self, ref: str) -> None:
        await self.manager.delete_dataset(ref)
        self.no_content()


class AliasHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def put(self, ref: str, name: str) -> None:
        self.write_json(await self.manager.set_alias(ref, name, self.body()))

    @web.authenticated
    @authorized
    async def delete(self, ref: str, name: str) -> None:
        await self.manager.delete_alias(ref, name)
        self.no_content()


class VersionsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        page = await self.manager.versions(
            ref, status=self.arg("status"), limit=self.arg("limit"), cursor=self.arg("cursor")
        )
        self.write_json(page)

    @web.authenticated
    @authorized
    async def post(self, ref: str) -> None:
        self.write_json(await self.manager.register(ref, self.body()), status=202)


class VersionHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, selector: str) -> None:
        self.write_json(await self.manager.version(ref, selector))

    @web.authenticated
    @authorized
    async def delete(self, ref: str, selector: str) -> None:
        await self.manager.delete_version(ref, selector)
        self.no_content()


class VersionActionHandler(FermiHandler):
    """POST …/cancel, …/verify, …/restore: each answers 202 with the job."""

    @web.authenticated
    @authorized
    async def post(self, ref: str, selector: str, action: str) -> None:
        m = self.manager
        if action == "cancel":
            job = await m.cancel(ref, selector)
        elif action == "verify":
            job = await m.verify(ref, selector)
        else:
            job = await m.restore(ref, selector, self.body())
        self.write_json(job, status=202)


class DiffHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, selector: str) -> None:
        diff = await self.manager.diff(
            ref, selector, self.get_argument("against", ""), self.arg("limit")
        )
        self.write_json(diff)


class LineageHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, selector: str) -> None:
        self.write_json(await self.manager.lineage(ref, selector))


class ManifestHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, selector: str) -> None:
        page = await self.manager.manifest(ref, selector, self.arg("limit"), self.arg("cursor"))
        self.write_json(page)


class JobsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        m = self.manager
        self.write_json(await m.jobs(self.arg("state"), self.arg("limit"), self.arg("cursor")))


class JobHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_json(await self.manager.job(job_id))

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        self.write_json(await self.manager.cancel_job(job_id), status=202)


class AuditHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        params = {k: self.arg(k) for k in ("action", "actor", "target", "cursor")}
        self.write_json(await self.manager.audit(limit=self.arg("limit"), **params))


class MountRecordsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.manager.mount_records(self.arg("server")))


class EventsHandler(FermiHandler):
    """Relays the registry's events (as this server's owner) through the shared relay.

    ``_track_activity = False``: an open stream is not a person at work, so it must not keep
    an idle server from being culled.
    """

    _track_activity = False
    keepalive = 15.0

    @web.authenticated
    @authorized
    async def get(self) -> None:
        last = self.request.headers.get("Last-Event-ID") or self.arg("last_event_id")
        relay = self.ext.relay
        sub = await relay.subscribe(last, self.arg("dataset_id"))
        self._sub = sub
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write("retry: 3000\n: connected\n\n")
            await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), self.keepalive)
                except asyncio.TimeoutError:
                    self.write(": keepalive\n\n")
                    await self.flush()
                    continue
                if event.type == "_closed":
                    break
                self.write(event.frame())
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            relay.unsubscribe(sub)

    def on_connection_close(self) -> None:
        if hasattr(self, "_sub"):
            self._sub.queue.put_nowait(Event(None, "_closed", {}))


class OpenAPIHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(OPENAPI.read_bytes())


class NoRouteHandler(FermiHandler):
    """Any other URL under api/fermi/: a JSON 404, never an HTML page."""

    @web.authenticated
    async def get(self) -> None:
        rest = self.request.path.rsplit("api/fermi/", 1)[-1]
        raise WorkspaceError(
            f"there is no {rest[:80]!r} in this API (see api/fermi/openapi.json)",
            Reason.not_found,
        )

    post = put = patch = delete = get


OPENAPI = Path(__file__).with_name("openapi.json")
REF = r"(?P<ref>[^/]+)"  # NAME, ds-…, or OWNER%2FNAME
SELECTOR = r"(?P<selector>[^/]+)"  # N, latest, or an alias (checked by the manager)
VOL = r"(?P<volume_id>[^/]+)"
V = rf"datasets/{REF}/versions/{SELECTOR}"
ROUTES = [
    ("info", InfoHandler),
    ("mounts", MountsHandler),
    ("volumes", VolumesHandler),
    (rf"volumes/{VOL}", VolumeHandler),
    (rf"volumes/{VOL}/tree", TreeHandler),
    (rf"volumes/{VOL}/summary", SummaryHandler),
    ("datasets", DatasetsHandler),
    (rf"datasets/{REF}", DatasetHandler),
    (rf"datasets/{REF}/aliases/(?P<name>[^/]+)", AliasHandler),
    (rf"datasets/{REF}/versions", VersionsHandler),
    (V, VersionHandler),
    (rf"{V}/(?P<action>cancel|verify|restore)", VersionActionHandler),
    (rf"{V}/diff", DiffHandler),
    (rf"{V}/lineage", LineageHandler),
    (rf"{V}/manifest", ManifestHandler),
    ("jobs", JobsHandler),
    (r"jobs/(?P<job_id>[^/]+)", JobHandler),
    ("audit", AuditHandler),
    ("mount-records", MountRecordsHandler),
    *TRANSFER_ROUTES,
    ("events", EventsHandler),
    ("openapi.json", OpenAPIHandler),
]
NO_ROUTE = (r".*", NoRouteHandler)  # last: everything else under api/fermi/
