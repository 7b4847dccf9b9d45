"""``WorkspaceManager``: every verb of the notebook side, as the server extension answers it.

The jupyter_server shape: handlers parse and write, this class decides. It knows this server's
mounts (``FERMI_MOUNTS``), browses mounted volumes from the local file system, and asks the
registry (as the server's owner, through one ``AsyncRegistryClient``) for everything else.
Results are the JSON shapes of ``server/openapi.json``. The CLI and magics use the same class
through its sync face, ``workspace.sync.Workspace``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import __version__
from ..client import AsyncRegistryClient, FermiError
from ..domain.mounts import Mount, MountKind
from ..domain.refs import parse_ref
from ..domain.states import IN_FLIGHT, JOB_ACTIVE, JOB_FINISHED, JobKind, JobState, Mode
from ..domain.states import VersionStatus as VS
from ..mounts import MountError, load_mounts, locate, parents
from . import listing
from .errors import WorkspaceError
from .progress import ProgressTracker
from .reasons import Reason, coerce

DATASET_FIELDS = ("name", "description", "tags", "visibility", "team", "data_type", "zone")
Json = dict[str, Any]


def error_json(e: FermiError) -> Json:
    status = e.status or 400
    return {"message": str(e), "reason": coerce(e.reason, status).value}


def check_limit(value: Any, default: int = 100, maximum: int = 1000) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise WorkspaceError(
            f"limit must be a whole number, not {value!r}", Reason.invalid_parameter
        ) from None
    if not 1 <= limit <= maximum:
        raise WorkspaceError(f"limit must be between 1 and {maximum}", Reason.invalid_parameter)
    return limit


def _text(body: Json, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise WorkspaceError(f"{key} must be a non-empty string", Reason.invalid_parameter)
    return value


class WorkspaceManager:
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
        changes take effect; ``root_dir`` anchors relative local paths (None: the cwd)."""
        self.registry = registry
        self.root_dir = root_dir
        self.tracker = tracker or ProgressTracker()
        self.search_budget = search_budget
        self.search_seconds = search_seconds
        self.env = env
        self._client: AsyncRegistryClient | None = None
        self._client_key: tuple[str, str] | None = None

    # -- plumbing -----------------------------------------------------------------------------
    def client(self) -> AsyncRegistryClient:
        """The one client, rebuilt only when the URL or token changes."""
        url, token = self.registry()
        if not url:
            raise WorkspaceError(
                "no registry configured: start this server from the hub, or set "
                "FERMI_REGISTRY_URL (c.FermiExtension.registry_url)",
                Reason.no_registry_url,
            )
        if self._client is None or self._client_key != (url, token):
            old = self._client
            self._client = AsyncRegistryClient(url, token or None)
            self._client_key = (url, token)
            if old is not None:
                self._closing = asyncio.ensure_future(old.aclose())
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def mounts_here(self) -> list[Mount]:
        return load_mounts(self.env)

    def cwd(self) -> str:
        return self.root_dir or os.getcwd()

    async def _blocking(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    # -- info and mounts ----------------------------------------------------------------------
    async def info(self) -> Json:
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

    def _volume_mount(self, volume_id: str) -> Mount | None:
        return next(
            (
                m
                for m in self.mounts_here()
                if m.kind is MountKind.volume and m.volume_id == volume_id
            ),
            None,
        )

    # -- volumes ------------------------------------------------------------------------------
    async def volumes(
        self, q: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        limit = check_limit(limit)
        page = await self.client().page("/volumes", q=q, limit=limit, cursor=cursor)
        where = self._volume_paths()
        page["items"] = [self._volume_json(v, where) for v in page["items"]]
        return page

    def _volume_paths(self) -> dict[str, str]:
        try:
            mounts = self.mounts_here()
        except MountError:
            mounts = []
        return {
            m.volume_id: m.mount_path for m in mounts if m.kind is MountKind.volume and m.volume_id
        }

    @staticmethod
    def _volume_json(v: Json, where: dict[str, str]) -> Json:
        v = {k: val for k, val in v.items() if k != "storage_path"}
        v["mount_path"] = where.get(v.get("id", ""))
        v.setdefault("usage", None)
        return v

    async def volume(self, volume_id: str) -> Json:
        v = await self.client().get_json(f"/volumes/{_q(volume_id)}")
        return self._volume_json(v, self._volume_paths())

    async def create_volume(self, body: Json) -> Json:
        _text(body, "name", required=True)
        v = await self.client().post_volume(body)
        return self._volume_json(v.raw, self._volume_paths())

    def _local(self, volume_id: str, path: str) -> tuple[Mount, str] | None:
        """(mount, path inside the mount) when this server can read ``path`` of the volume."""
        m = self._volume_mount(volume_id)
        if m is None:
            return None
        sub = "/".join(listing.split(m.sub_path))
        parts = listing.split(path or "")
        rel = "/".join(parts)
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
        limit = check_limit(limit)
        path = path or ""
        local = self._local(volume_id, path)
        if local is None:
            page = await self.client().tree_page(volume_id, path, q_=q, limit=limit, cursor=cursor)
            return {**page, "q": q, "source": "registry", "mount_path": None}
        m, rel = local
        sub = "/".join(listing.split(m.sub_path))

        def work() -> listing.Listing:
            if q:
                deadline = time.monotonic() + self.search_seconds
                return listing.search(
                    m.mount_path, rel, q, limit=limit, cursor=cursor,
                    budget=self.search_budget, deadline=deadline, cancel=cancel,
                )  # fmt: skip
            return listing.list_dir(m.mount_path, rel, limit=limit, cursor=cursor)

        result = await self._blocking(work)
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
        local = self._local(volume_id, path or "")
        if local is not None:
            m, rel = local
            counts = await self._blocking(
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

    # -- datasets -----------------------------------------------------------------------------
    def _mounted_numbers(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        try:
            mounts = self.mounts_here()
        except MountError:
            return out
        for m in mounts:
            if m.kind is MountKind.dataset and m.dataset_id and m.version:
                out.setdefault(m.dataset_id, []).append(m.version)
        return out

    def _dataset_json(self, d: Json, mounted: dict[str, list[int]] | None = None) -> Json:
        mounted = self._mounted_numbers() if mounted is None else mounted
        return {**d, "mounted_here": sorted(mounted.get(d.get("id", ""), []))}

    async def datasets(self, limit: Any = None, **params: Any) -> Json:
        limit = check_limit(limit)
        page = await self.client().page("/datasets", limit=limit, **params)
        mounted = self._mounted_numbers()
        page["items"] = [self._dataset_json(d, mounted) for d in page["items"]]
        return page

    async def dataset(self, ref: str) -> Json:
        return self._dataset_json(await self.client().get_json(f"/datasets/{_q(ref)}"))

    async def create_dataset(self, body: Json) -> Json:
        unknown = set(body) - {*DATASET_FIELDS, "version"}
        if unknown:
            raise WorkspaceError(
                f"unknown fields: {', '.join(sorted(unknown))}", Reason.invalid_parameter
            )
        name = _text(body, "name", required=True) or ""
        fields = {k: body[k] for k in DATASET_FIELDS if k in body and k != "name"}
        spec = body.get("version")
        if spec is None:
            ds = await self.client().create_dataset(name, **fields)
            return {"dataset": self._dataset_json(ds.raw), "version": None}
        volume_id, sub, common = self._registration(spec)
        ds, v = await self.client().create_and_register(name, volume_id, sub, **common, **fields)
        return {"dataset": self._dataset_json(ds.raw), "version": self._version_json(v.raw)}

    async def update_dataset(self, ref: str, body: Json) -> Json:
        ds = await self.client().patch_dataset(ref, body)
        return self._dataset_json(ds.raw)

    async def delete_dataset(self, ref: str) -> None:
        await self.client().delete_dataset(ref)

    async def set_alias(self, ref: str, name: str, body: Json) -> Json:
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise WorkspaceError('the body is {"version": N}', Reason.invalid_parameter)
        return await self.client().set_alias(ref, name, version)

    async def delete_alias(self, ref: str, name: str) -> None:
        await self.client().delete_alias(ref, name)

    # -- versions -----------------------------------------------------------------------------
    def _version_json(self, v: Json) -> Json:
        here = {m.ref for m in self._safe_mounts() if m.ref}
        status = v.get("status", VS.pending.value)
        active = status in {s.value for s in IN_FLIGHT}
        name = v.get("dataset_name")
        return {
            **{k: val for k, val in v.items() if k != "storage_path"},
            "label": f"{name}@{v.get('number')}" if name else v.get("ref", ""),
            "mounted_here": v.get("ref") in here,
            "progress": self.tracker.enrich(f"v:{v.get('ref')}", v.get("progress"), active=active),
        }

    def _job_json(self, j: Json) -> Json:
        active = j.get("state") in {s.value for s in JOB_ACTIVE}
        return {
            **j,
            "progress": self.tracker.enrich(f"j:{j.get('id')}", j.get("progress"), active=active),
        }

    def _safe_mounts(self) -> list[Mount]:
        try:
            return self.mounts_here()
        except MountError:
            return []

    async def versions(
        self, ref: str, *, status: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        limit = check_limit(limit)
        path = f"/datasets/{_q(ref)}/versions"
        page = await self.client().page(path, status=status, limit=limit, cursor=cursor)
        page["items"] = [self._version_json(v) for v in page["items"]]
        return page

    async def version(self, ref: str, selector: str) -> Json:
        return self._version_json((await self.client().version(ref, selector)).raw)

    def _registration(self, body: Any) -> tuple[str, str, Json]:
        """(volume id, path in the volume, mode/message/parents) of a VersionCreate body."""
        if not isinstance(body, dict):
            raise WorkspaceError("the body must be a JSON object", Reason.invalid_json)
        mode = body.get("mode", Mode.snapshot.value)
        if mode not in {m.value for m in Mode}:
            raise WorkspaceError(
                "mode is 'snapshot' (a copy, the default) or 'reference' (in place)",
                Reason.invalid_parameter,
            )
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise WorkspaceError("message must be a string", Reason.invalid_parameter)
        lineage = body.get("parents")
        if lineage is not None and (
            not isinstance(lineage, list) or not all(isinstance(p, str) for p in lineage)
        ):
            raise WorkspaceError(
                "parents is a list of references such as ds-abc@3", Reason.invalid_parameter
            )
        volume_id = body.get("volume_id")
        path = body.get("path")
        if volume_id is not None:
            if not isinstance(volume_id, str) or not volume_id:
                raise WorkspaceError("volume_id must be a vol-… id", Reason.invalid_parameter)
            if not isinstance(path, str):
                raise WorkspaceError(
                    "path must be a folder relative to the volume", Reason.invalid_parameter
                )
            sub = "/".join(listing.split(path))
        else:
            mount, sub = locate(path, self.mounts_here(), cwd=self.cwd())
            volume_id = mount.volume_id or ""
        if lineage is None:
            lineage = parents(self._safe_mounts())
        return volume_id, sub, {"mode": mode, "message": message, "parents": lineage}

    async def register(self, ref: str, body: Json) -> Json:
        volume_id, sub, common = self._registration(body)
        v = await self.client().register(ref, volume_id, sub, **common)
        return self._version_json(v.raw)

    async def delete_version(self, ref: str, selector: str) -> None:
        v = await self.client().version(ref, selector)
        if VS(v.status) in IN_FLIGHT:
            raise WorkspaceError(
                f"{v.label} is still {v.status}: cancel it first", Reason.not_ready, status=409
            )
        await self.client().delete_version(ref, str(v.number))

    async def cancel(self, ref: str, selector: str) -> Json:
        client = self.client()
        v = await client.version(ref, selector)
        if VS(v.status) not in IN_FLIGHT:
            raise WorkspaceError(f"{v.label} is {v.status}: nothing to cancel", Reason.not_running)
        for state in (JobState.running, JobState.queued, JobState.cancelling):
            page = await client.jobs_page(state.value, limit=1000)
            for j in page["items"]:
                if j.get("kind") == JobKind.register.value and j.get("version") == v.ref:
                    if state is not JobState.cancelling:
                        j = (await client.cancel_job(j["id"])).raw
                    return self._job_json(j)
        raise WorkspaceError(
            f"{v.label} is being registered by {v.created_by}; only they (or an admin) can "
            "cancel it",
            Reason.not_cancellable,
        )

    async def verify(self, ref: str, selector: str) -> Json:
        return self._job_json((await self.client().verify(ref, selector)).raw)

    async def restore(self, ref: str, selector: str, body: Json) -> Json:
        volume_id = body.get("volume_id")
        path = body.get("path")
        if volume_id is not None:
            if not isinstance(volume_id, str) or not isinstance(path, str) or not path.strip("/"):
                raise WorkspaceError(
                    'restore needs {"volume_id": "vol-…", "path": "a/new/folder"}',
                    Reason.invalid_parameter,
                )
            sub = "/".join(listing.split(path))
        else:
            mount, sub = locate(path, self.mounts_here(), cwd=self.cwd())
            volume_id = mount.volume_id or ""
        if not sub:
            raise WorkspaceError(
                "restore into a new folder inside the volume, e.g. /workspace/restored",
                Reason.bad_path,
            )
        return self._job_json((await self.client().restore(ref, selector, volume_id, sub)).raw)

    async def diff(self, ref: str, selector: str, against: str, limit: Any = None) -> Json:
        if not against:
            raise WorkspaceError(
                "against is required: a version number or NAME@N", Reason.invalid_parameter
            )
        limit = check_limit(limit, default=1000, maximum=10_000)
        return await self.client().diff(ref, selector, against, limit=limit)

    async def lineage(self, ref: str, selector: str) -> Json:
        return await self.client().lineage(ref, selector)

    async def manifest(
        self, ref: str, selector: str, limit: Any = None, cursor: str | None = None
    ) -> Json:
        limit = check_limit(limit)
        return await self.client().manifest_page(ref, selector, limit=limit, cursor=cursor)

    # -- jobs ---------------------------------------------------------------------------------
    async def jobs(
        self, state: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        limit = check_limit(limit)
        if state is not None and state not in {s.value for s in JobState}:
            raise WorkspaceError(f"no job state {state!r}", Reason.invalid_parameter)
        page = await self.client().jobs_page(state, limit=limit, cursor=cursor)
        page["items"] = [self._job_json(j) for j in page["items"]]
        return page

    async def job(self, job_id: str) -> Json:
        return self._job_json((await self.client().job(_job_id(job_id))).raw)

    async def cancel_job(self, job_id: str) -> Json:
        client = self.client()
        job = await client.job(_job_id(job_id))
        if JobState(job.state) in JOB_FINISHED:
            raise WorkspaceError(
                f"job {job.id} is {job.state}: nothing to cancel", Reason.not_running
            )
        return self._job_json((await client.cancel_job(job.id)).raw)


def _job_id(text: str) -> int:
    if not str(text).isdigit() or len(str(text)) > 18:
        raise WorkspaceError(f"no job {text!r}", Reason.job_not_found)
    return int(text)


def _q(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")


def split_ref(text: str) -> tuple[str, str]:
    """``NAME@N`` → (dataset, selector); the CLI's way of naming a version."""
    try:
        ref = parse_ref(text)
    except ValueError as e:
        raise WorkspaceError(str(e), Reason.invalid_ref) from None
    return ref.dataset, ref.selector
