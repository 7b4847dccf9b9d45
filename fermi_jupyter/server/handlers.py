"""Thin handlers under ``{base_url}api/fermi/``; logic lives in the client and mounts module."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.iostream import StreamClosedError

from ..client import FermiError, RegistryClient, RegistryUnavailable
from ..mounts import Mount, MountError, load_mounts, locate, parents
from ..registry.storage import StorageError, list_dir

if TYPE_CHECKING:
    from .app import FermiExtension

AUTH_RESOURCE = "fermi"


class FermiHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def ext(self) -> FermiExtension:
        return self.settings["fermi"]

    async def call(self, fn, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
        """Run a (blocking) registry call off the event loop; errors become 4xx/502 JSON."""

        def work() -> Any:
            with self.ext.make_client() as client:
                return fn(client, *args, **kwargs)

        try:
            return await asyncio.get_running_loop().run_in_executor(None, work)
        except RegistryUnavailable as e:
            raise web.HTTPError(502, str(e), reason="registry-unavailable") from None
        except FermiError as e:
            status = e.status if e.status and 400 <= e.status < 500 else 400
            if e.reason == "no-registry-url":  # not started by the hub, or misconfigured
                status = 503
            raise web.HTTPError(status, str(e), reason=e.reason) from None
        except MountError as e:
            raise web.HTTPError(400, str(e), reason=e.reason) from None

    def mounts(self) -> list[Mount]:
        try:
            return load_mounts()
        except MountError as e:
            raise web.HTTPError(500, str(e), reason=e.reason) from None

    def _locate(self, path: str) -> tuple[Mount, str]:
        """A local path (relative ones from the file browser's root) → (mount, sub path)."""
        try:
            return locate(path, self.mounts(), cwd=self.settings.get("server_root_dir") or None)
        except MountError as e:
            raise web.HTTPError(400, str(e), reason=e.reason) from None

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj, ensure_ascii=False, default=str))


class MountsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        items = []
        for m in self.mounts():
            item = m.to_json()
            if m.kind == "dataset" and m.dataset_id and m.version:
                try:
                    v = await self.call(lambda c, m=m: c.version(m.dataset_id, m.version))
                    item["status"] = v.status
                except web.HTTPError:
                    item["status"] = "unknown"
            items.append(item)
        self.write_json({"items": items})


class VolumesHandler(FermiHandler):
    """Your volumes (a page of the registry's list), each with where it is mounted here."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        here = {m.volume_id: m.mount_path for m in self.mounts() if m.kind == "volume"}
        params = _params(self, "q", "limit", "cursor")
        page = await self.call(lambda c: c.page("/volumes", **params))
        page["items"] = [{**v, "mount_path": here.get(v["id"])} for v in page["items"]]
        self.write_json(page)


class TreeHandler(FermiHandler):
    """Mounted volumes are listed from this server's file system; others through the registry."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        vol_id = self.get_argument("volume")
        path = self.get_argument("path", "")
        q = self.get_argument("q", None) or None
        limit = int(self.get_argument("limit", "100"))
        cursor = self.get_argument("cursor", None)
        mount = next(
            (m for m in self.mounts() if m.kind == "volume" and m.volume_id == vol_id), None
        )
        if mount is None:
            page = await self.call(lambda c: c.tree(vol_id, path, q=q, limit=limit, cursor=cursor))
            self.write_json(page.raw)
            return
        try:
            entries, nxt, truncated = list_dir(
                Path(mount.mount_path), path, q=q, limit=limit, cursor=cursor
            )
        except StorageError as e:
            status = 404 if e.reason == "not-found" else 400
            raise web.HTTPError(status, str(e), reason=e.reason) from None
        self.write_json(
            {
                "volume_id": vol_id,
                "path": path,
                "local": True,
                "mount_path": mount.mount_path,
                "items": [e.__dict__ for e in entries],
                "next_cursor": nxt,
                "truncated": truncated,
            }
        )


def _params(handler: FermiHandler, *names: str) -> dict[str, str | None]:
    return {k: handler.get_argument(k, None) for k in names}


class DatasetsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        params = _params(self, "q", "scope", "tag", "owner", "data_type", "limit", "cursor")
        self.write_json(await self.call(lambda c: c.page("/datasets", **params)))


class VersionsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, selector: str | None = None) -> None:
        path = f"/datasets/{quote(ref, safe='')}/versions"
        if selector:
            self.write_json(await self.call(lambda c: c.request("GET", f"{path}/{selector}")))
            return
        params = _params(self, "status", "limit", "cursor")
        self.write_json(await self.call(lambda c: c.page(path, **params)))

    @web.authenticated
    @authorized
    async def delete(self, ref: str, selector: str | None = None) -> None:
        """Delete a version, or cancel one still processing (409 while mounted somewhere)."""
        if not selector:
            raise web.HTTPError(405, "delete one version: …/versions/N", reason="bad-request")
        status = await self.call(lambda c: c.delete_version(ref, selector))
        self.write_json({"status": status})


class VersionJobHandler(FermiHandler):
    """POST …/versions/N/verify, or …/versions/N/restore with a *local* ``path`` of a mounted
    volume; both answer 202 with the job to follow at ``jobs/{id}``."""

    @web.authenticated
    @authorized
    async def post(self, ref: str, selector: str, action: str) -> None:
        if action == "verify":
            job = await self.call(lambda c: c.verify(ref, selector))
        else:
            path = (self.get_json_body() or {}).get("path")
            if not isinstance(path, str) or not path:
                raise web.HTTPError(
                    400, "path is required: a new folder of a mounted volume", reason="bad-request"
                )
            mount, sub = self._locate(path)
            if not sub:
                raise web.HTTPError(
                    400,
                    "restore into a new folder inside the volume, e.g. /workspace/restored",
                    reason="bad-path",
                )
            job = await self.call(lambda c: c.restore(ref, selector, mount.volume_id or "", sub))
        self.write_json(job.raw, status=202)


class JobHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_json((await self.call(lambda c: c.job(int(job_id)))).raw)


DATASET_FIELDS = ("data_type", "description", "visibility", "team", "tags", "zone")


class RegisterHandler(FermiHandler):
    """POST a *local* path inside a mounted volume; it becomes (volume, sub path) here."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.get_json_body() or {}
        path = body.get("path")
        if not isinstance(path, str) or not path:
            raise web.HTTPError(
                400, "path is required: a folder of a mounted volume", reason="bad-request"
            )
        if not (body.get("dataset") or body.get("name")):
            raise web.HTTPError(
                400,
                "give name (a new dataset) or dataset (a new version of it)",
                reason="bad-request",
            )
        mounts = self.mounts()
        mount, sub = self._locate(path)

        def register(c: RegistryClient):  # type: ignore[no-untyped-def]
            common = {
                "mode": body.get("mode", "snapshot"),
                "message": body.get("message", ""),
                "parents": parents(mounts),
            }
            if body.get("dataset"):
                return c.register(body["dataset"], mount.volume_id or "", sub, **common)
            fields = {k: body[k] for k in DATASET_FIELDS if body.get(k)}
            return c.create_and_register(
                body["name"], mount.volume_id or "", sub, **common, **fields
            )

        v = await self.call(register)
        self.write_json(v.raw, status=202)


class EventsHandler(FermiHandler):
    """Relays the registry's event stream (as this server's owner) to the browser."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        import httpx

        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        ext = self.ext
        params = (
            {"dataset_id": self.get_argument("dataset_id")}
            if self.get_argument("dataset_id", None)
            else {}
        )
        if not ext.registry_url:
            raise web.HTTPError(
                503,
                "no registry configured: start this server from the hub, or set "
                "c.FermiExtension.registry_url",
                reason="no-registry-url",
            )
        headers = {"Authorization": f"token {ext.registry_token}"}
        url = f"{ext.registry_url.rstrip('/')}/events"
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
                client.stream("GET", url, params=params, headers=headers) as r,
            ):
                if r.status_code >= 400:
                    await r.aread()
                    try:
                        message = r.json().get("message", "")
                    except ValueError:
                        message = ""
                    raise web.HTTPError(
                        r.status_code if r.status_code < 500 else 502,
                        message or f"the registry refused the event stream ({r.status_code})",
                        reason="registry-refused",
                    )
                async for chunk in r.aiter_raw():
                    self.write(chunk)
                    await self.flush()
        except StreamClosedError:
            return  # the browser went away; closing the upstream stream is all there is to do
        except httpx.HTTPError as e:
            raise web.HTTPError(
                502,
                f"event stream from the registry broke ({e.__class__.__name__}); reload to retry",
                reason="registry-unavailable",
            ) from None


class OpenAPIHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(OPENAPI.read_bytes())


OPENAPI = Path(__file__).with_name("openapi.json")
REF = r"(?P<ref>[^/]+(?:/[^/]+)?)"  # NAME, ds-…, or OWNER/NAME
SELECTOR = r"(?P<selector>[A-Za-z0-9_.\-]+)"  # N, latest, or an alias
ROUTES = [
    ("mounts", MountsHandler),
    ("volumes", VolumesHandler),
    ("tree", TreeHandler),
    ("datasets", DatasetsHandler),
    (rf"datasets/{REF}/versions", VersionsHandler),
    (rf"datasets/{REF}/versions/{SELECTOR}", VersionsHandler),
    (rf"datasets/{REF}/versions/{SELECTOR}/(?P<action>verify|restore)", VersionJobHandler),
    (r"jobs/(?P<job_id>\d+)", JobHandler),
    ("register", RegisterHandler),
    ("events", EventsHandler),
    ("openapi.json", OpenAPIHandler),
]
