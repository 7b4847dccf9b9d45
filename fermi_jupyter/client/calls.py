"""The registry's REST API as request descriptions, shared by the sync and the async face.

Each method of ``Endpoints`` builds one ``Call`` and hands it to ``self._send``: the sync client
(``RegistryClient``) returns the parsed result, the async one (``AsyncRegistryClient``) a
coroutine of it. So every single-request verb is written once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from .errors import FermiError, RegistryUnavailable, from_response
from .models import Dataset, Job, Version, Volume


def q(part: str | int) -> str:
    return quote(str(part), safe="")


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    parse: Callable[[Any], Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params": {k: v for k, v in self.params.items() if v is not None and v != ""}
        }
        if self.json is not None:
            out["json"] = self.json
        return out


def settings(url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    """The base URL and headers, from arguments or the server's environment."""
    url = url or os.environ.get("FERMI_REGISTRY_URL")
    if not url:
        raise FermiError(
            "no registry URL: set FERMI_REGISTRY_URL (e.g. "
            "http://127.0.0.1:8000/services/fermi-registry/api/v1)",
            reason="no-registry-url",
            status=503,
        )
    token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
    return url.rstrip("/"), ({"Authorization": f"token {token}"} if token else {})


def unreachable(url: str, e: Exception) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"cannot reach the registry at {url} ({e.__class__.__name__}); is the hub running?",
        reason="registry-unavailable",
        status=502,
    )


def finish(call: Call, r: httpx.Response) -> Any:
    """The parsed result of a response, or the client's exception for an error status."""
    if r.status_code >= 400:
        try:
            body = r.json()
        except ValueError:
            body = None
        raise from_response(r.status_code, body if isinstance(body, dict) else None)
    data = None if r.status_code == 204 or not r.content else r.json()
    return call.parse(data) if call.parse else data


class Endpoints:
    """One request each. Subclasses define ``_send``."""

    def _send(self, call: Call) -> Any:  # pragma: no cover - defined by each face
        raise NotImplementedError

    # -- raw pages, for proxies that hand the registry's JSON on -------------------------------
    def page(self, path: str, **params: Any) -> Any:
        """One raw page of a list resource (``items``, ``next_cursor``)."""
        return self._send(Call("GET", path, params))

    def get_json(self, path: str, **params: Any) -> Any:
        return self._send(Call("GET", path, params))

    # -- volumes ------------------------------------------------------------------------------
    def volume(self, volume_id: str) -> Volume:
        return self._send(Call("GET", f"/volumes/{q(volume_id)}", parse=Volume.from_json))

    def create_volume(self, name: str, capacity: str | int = "100Gi", **fields: Any) -> Volume:
        return self.post_volume({"name": name, "capacity": capacity, **fields})

    def post_volume(self, body: dict[str, Any]) -> Volume:
        return self._send(Call("POST", "/volumes", json=body, parse=Volume.from_json))

    def tree_page(
        self, volume_id: str, path: str = "", *, q_: str | None = None, limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        params = {"path": path, "q": q_, "limit": limit, "cursor": cursor}
        return self._send(Call("GET", f"/volumes/{q(volume_id)}/tree", params))

    # -- datasets -----------------------------------------------------------------------------
    def dataset(self, ref: str) -> Dataset:
        return self._send(Call("GET", f"/datasets/{q(ref)}", parse=Dataset.from_json))

    def create_dataset(self, name: str, **fields: Any) -> Dataset:
        return self._send(
            Call("POST", "/datasets", json={"name": name, **fields}, parse=Dataset.from_json)
        )

    def update_dataset(self, ref: str, **fields: Any) -> Dataset:
        return self.patch_dataset(ref, fields)

    def patch_dataset(self, ref: str, body: dict[str, Any]) -> Dataset:
        return self._send(Call("PATCH", f"/datasets/{q(ref)}", json=body, parse=Dataset.from_json))

    def delete_dataset(self, ref: str) -> None:
        return self._send(Call("DELETE", f"/datasets/{q(ref)}"))

    def set_alias(self, ref: str, alias: str, version: int) -> dict[str, Any]:
        path = f"/datasets/{q(ref)}/aliases/{q(alias)}"
        return self._send(Call("PUT", path, json={"version": version}))

    def delete_alias(self, ref: str, alias: str) -> None:
        return self._send(Call("DELETE", f"/datasets/{q(ref)}/aliases/{q(alias)}"))

    # -- versions -----------------------------------------------------------------------------
    def version(self, ref: str, selector: str | int = "latest") -> Version:
        path = f"/datasets/{q(ref)}/versions/{q(selector)}"
        return self._send(Call("GET", path, parse=Version.from_json))

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
        body: dict[str, Any] = {"volume_id": volume_id, "path": path, "mode": mode}
        body["message"] = message
        if parents:
            body["parents"] = parents
        path_ = f"/datasets/{q(ref)}/versions"
        return self._send(Call("POST", path_, json=body, parse=Version.from_json))

    def delete_version(self, ref: str, selector: str | int) -> str:
        """Delete a finished version (the registry cancels one still processing); returns
        what happened: ``deleted`` or ``cancelling``."""
        path = f"/datasets/{q(ref)}/versions/{q(selector)}"
        return self._send(
            Call("DELETE", path, parse=lambda body: body["status"] if body else "deleted")
        )

    def manifest_page(
        self, ref: str, selector: str | int, *, limit: int = 1000, cursor: str | None = None
    ) -> dict[str, Any]:
        path = f"/datasets/{q(ref)}/versions/{q(selector)}/manifest"
        return self._send(Call("GET", path, {"limit": limit, "cursor": cursor}))

    def diff(
        self, ref: str, selector: str | int, against: str | int, *, limit: int = 1000
    ) -> dict[str, Any]:
        """Files added, removed and changed from ``against`` to this version (manifests only)."""
        path = f"/datasets/{q(ref)}/versions/{q(selector)}/diff"
        return self._send(Call("GET", path, {"against": str(against), "limit": limit}))

    def lineage(self, ref: str, selector: str | int) -> dict[str, Any]:
        """Parents and children of a version."""
        path = f"/datasets/{q(ref)}/versions/{q(selector)}/lineage"
        return self._send(Call("GET", path))

    def cancel_version(self, ref: str, selector: str | int) -> Job:
        """Stop a registration still pending or processing (the dataset's owner, an admin, or
        whoever started it); returns its job. A finished version is never touched."""
        path = f"/datasets/{q(ref)}/versions/{q(selector)}/cancel"
        return self._send(Call("POST", path, parse=Job.from_json))

    def verify(self, ref: str, selector: str | int = "latest") -> Job:
        path = f"/datasets/{q(ref)}/versions/{q(selector)}/verify"
        return self._send(Call("POST", path, parse=Job.from_json))

    def restore(self, ref: str, selector: str | int, volume_id: str, path: str) -> Job:
        url = f"/datasets/{q(ref)}/versions/{q(selector)}/restore"
        body = {"volume_id": volume_id, "path": path}
        return self._send(Call("POST", url, json=body, parse=Job.from_json))

    # -- jobs, mounts, audit ------------------------------------------------------------------
    def jobs_page(
        self, state: str | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        return self._send(Call("GET", "/jobs", {"state": state, "limit": limit, "cursor": cursor}))

    def job(self, job_id: int) -> Job:
        return self._send(Call("GET", f"/jobs/{q(job_id)}", parse=Job.from_json))

    def cancel_job(self, job_id: int) -> Job:
        return self._send(Call("DELETE", f"/jobs/{q(job_id)}", parse=Job.from_json))

    def mount_records(self, server: str | None = None) -> dict[str, Any]:
        return self._send(Call("GET", "/mounts", {"server": server}))
