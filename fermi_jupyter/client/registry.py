"""``RegistryClient``: the one Python client of the registry's REST API.

Used by the server extension, the ``%fermi`` magics and the ``fermi`` CLI. Inside a user's
server it needs no arguments: the URL comes from ``FERMI_REGISTRY_URL`` and the token from
``JUPYTERHUB_API_TOKEN``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from .errors import FermiError, RegistryUnavailable, VersionFailed, from_response
from .models import Dataset, Job, ManifestEntry, Page, TreeEntry, Version, Volume
from .transfers import TransfersMixin


def _q(part: str) -> str:
    return quote(part, safe="")


class RegistryClient(TransfersMixin):
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        url = url or os.environ.get("FERMI_REGISTRY_URL")
        if not url:
            raise FermiError(
                "no registry URL: set FERMI_REGISTRY_URL (e.g. "
                "http://127.0.0.1:8000/services/fermi-registry/api/v1)",
                reason="no-registry-url",
            )
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
        headers = {"Authorization": f"token {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            r = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise RegistryUnavailable(
                f"cannot reach the registry at {self.url} ({e.__class__.__name__}); "
                "is the hub running?",
                reason="unreachable",
            ) from None
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = None
            raise from_response(r.status_code, body)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    def _page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def page(self, path: str, **params: Any) -> dict[str, Any]:
        """One raw page of a list resource (``items``, ``next_cursor``), for proxies that
        hand the registry's JSON on unchanged. ``None`` parameters are dropped."""
        return self._page(path, params)

    def _iterate(self, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict]:
        cursor, seen = None, 0
        while True:
            body = self._page(path, {**params, "cursor": cursor, "limit": 200})
            for item in body["items"]:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield item
            cursor = body.get("next_cursor")
            if not cursor:
                return

    # -- volumes ------------------------------------------------------------------------------
    def volumes(self, q: str | None = None, *, limit: int | None = None) -> list[Volume]:
        return [Volume.from_json(v) for v in self._iterate("/volumes", {"q": q}, limit)]

    def volume(self, volume_id: str) -> Volume:
        return Volume.from_json(self.request("GET", f"/volumes/{_q(volume_id)}"))

    def create_volume(self, name: str, capacity: str | int = "100Gi", **fields: Any) -> Volume:
        body = {"name": name, "capacity": capacity, **fields}
        return Volume.from_json(self.request("POST", "/volumes", json=body))

    def tree(
        self,
        volume_id: str,
        path: str = "",
        *,
        q: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        body = self._page(
            f"/volumes/{_q(volume_id)}/tree",
            {"path": path, "q": q, "limit": limit, "cursor": cursor},
        )
        return Page(
            raw=body,
            items=[TreeEntry.from_json(e) for e in body["items"]],
            next_cursor=body.get("next_cursor"),
            truncated=body.get("truncated", False),
        )

    # -- datasets -----------------------------------------------------------------------------
    def datasets(
        self,
        q: str | None = None,
        *,
        scope: str = "all",
        tag: str | None = None,
        owner: str | None = None,
        data_type: str | None = None,
        limit: int | None = None,
    ) -> list[Dataset]:
        params = {"q": q, "scope": scope, "tag": tag, "owner": owner, "data_type": data_type}
        return [Dataset.from_json(d) for d in self._iterate("/datasets", params, limit)]

    def dataset(self, ref: str) -> Dataset:
        return Dataset.from_json(self.request("GET", f"/datasets/{_q(ref)}"))

    def create_dataset(self, name: str, **fields: Any) -> Dataset:
        return Dataset.from_json(self.request("POST", "/datasets", json={"name": name, **fields}))

    def update_dataset(self, ref: str, **fields: Any) -> Dataset:
        return Dataset.from_json(self.request("PATCH", f"/datasets/{_q(ref)}", json=fields))

    def delete_dataset(self, ref: str) -> None:
        self.request("DELETE", f"/datasets/{_q(ref)}")

    def set_alias(self, ref: str, alias: str, version: int) -> None:
        self.request("PUT", f"/datasets/{_q(ref)}/aliases/{_q(alias)}", json={"version": version})

    def delete_alias(self, ref: str, alias: str) -> None:
        self.request("DELETE", f"/datasets/{_q(ref)}/aliases/{_q(alias)}")

    # -- versions -----------------------------------------------------------------------------
    def versions(self, ref: str, *, status: str | None = None) -> list[Version]:
        items = self._iterate(f"/datasets/{_q(ref)}/versions", {"status": status}, None)
        return [Version.from_json(v) for v in items]

    def version(self, ref: str, selector: str | int = "latest") -> Version:
        return Version.from_json(
            self.request("GET", f"/datasets/{_q(ref)}/versions/{_q(str(selector))}")
        )

    def register(
        self,
        ref: str,
        volume_id: str,
        path: str = "",
        *,
        mode: str = "snapshot",
        message: str = "",
        parents: list[str] | None = None,
    ) -> Version:
        body = {"volume_id": volume_id, "path": path, "mode": mode, "message": message}
        if parents:
            body["parents"] = parents
        return Version.from_json(self.request("POST", f"/datasets/{_q(ref)}/versions", json=body))

    def create_and_register(
        self,
        name: str,
        volume_id: str,
        path: str = "",
        *,
        mode: str = "snapshot",
        message: str = "",
        parents: list[str] | None = None,
        **fields: Any,
    ) -> Version:
        """A new dataset with ``path`` of a volume as version 1. If the registration is
        refused (e.g. no access to the volume) the just-created dataset is deleted again, so a
        refusal leaves no empty dataset behind."""
        ds = self.create_dataset(name, **fields)
        try:
            return self.register(
                ds.id, volume_id, path, mode=mode, message=message, parents=parents
            )
        except FermiError:
            with contextlib.suppress(FermiError):  # the refusal is the error worth showing
                self.delete_dataset(ds.id)
            raise

    def wait(
        self,
        ref: str,
        selector: str | int,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Version], None] | None = None,
    ) -> Version:
        """Poll until the version is ready; raise ``VersionFailed`` if it fails or is cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            v = self.version(ref, selector)
            if on_progress:
                on_progress(v)
            if v.status in ("failed", "cancelled"):
                raise VersionFailed(
                    f"{v.ref} {v.status}: {v.error or 'no reason given'}", reason=v.status
                )
            if v.done:
                return v
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(
                    f"{v.label} still {v.status} after {timeout:g}s; it goes on in the background, "
                    f"check it later with: fermi status {v.label}",
                    reason="timeout",
                )
            time.sleep(poll)

    def manifest(self, ref: str, selector: str | int = "latest") -> Iterator[ManifestEntry]:
        cursor = None
        while True:
            body = self._page(
                f"/datasets/{_q(ref)}/versions/{_q(str(selector))}/manifest",
                {"cursor": cursor, "limit": 1000},
            )
            for e in body["items"]:
                yield ManifestEntry.from_json(e)
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def verify(self, ref: str, selector: str | int = "latest") -> Job:
        path = f"/datasets/{_q(ref)}/versions/{_q(str(selector))}/verify"
        return Job.from_json(self.request("POST", path))

    def restore(self, ref: str, selector: str | int, volume_id: str, path: str) -> Job:
        url = f"/datasets/{_q(ref)}/versions/{_q(str(selector))}/restore"
        return Job.from_json(self.request("POST", url, json={"volume_id": volume_id, "path": path}))

    def delete_version(self, ref: str, selector: str | int) -> str:
        """Delete a finished version, or cancel one still processing. Returns what happened."""
        body = self.request("DELETE", f"/datasets/{_q(ref)}/versions/{_q(str(selector))}")
        return body["status"] if body else "deleted"

    # -- jobs, mounts, audit, events ----------------------------------------------------------
    def job(self, job_id: int) -> Job:
        return Job.from_json(self.request("GET", f"/jobs/{job_id}"))

    def wait_job(
        self,
        job_id: int,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if on_progress:
                on_progress(job)
            if job.done:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(
                    f"job {job_id} ({job.kind} of {job.version}) still {job.state} after "
                    f"{timeout:g}s; it goes on in the background",
                    reason="timeout",
                )
            time.sleep(poll)

    def cancel_job(self, job_id: int) -> Job:
        return Job.from_json(self.request("DELETE", f"/jobs/{job_id}"))

    def record_mounts(self, server: str, mounts: list[dict[str, str]]) -> None:
        self.request("PUT", f"/mounts/{server}", json={"mounts": mounts})

    def forget_mounts(self, server: str) -> None:
        self.request("DELETE", f"/mounts/{server}")

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self._iterate("/audit", filters, filters.pop("limit", 200)))

    def events(self, dataset_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Server-sent events, parsed; blocks while waiting for the next one."""
        params = {"dataset_id": dataset_id} if dataset_id else {}
        try:
            with self._http.stream("GET", "/events", params=params, timeout=None) as r:
                if r.status_code >= 400:
                    r.read()
                    raise from_response(r.status_code, r.json())
                data: list[str] = []
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        yield json.loads("\n".join(data))
                        data = []
        except httpx.HTTPError as e:
            raise RegistryUnavailable(f"event stream from {self.url} broke: {e}") from None
