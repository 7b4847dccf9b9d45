"""``RegistryClient``: the client's sync face, for scripts, the CLI and the magics.

Inside a user's server it needs no arguments: the URL comes from ``FERMI_REGISTRY_URL`` and the
token from ``JUPYTERHUB_API_TOKEN``. Single-request verbs are shared with the async face
(``AsyncRegistryClient``) through ``calls.Endpoints``; this module adds the loops.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from . import waiting
from .calls import Call, Endpoints, finish, q, settings, unreachable
from .errors import FermiError, RegistryUnavailable, from_response
from .models import Dataset, Job, ManifestEntry, Page, TreeEntry, Version, Volume
from .transfers import TransfersMixin


class RegistryClient(TransfersMixin, Endpoints):
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url, headers = settings(url, token)
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: Call) -> Any:
        try:
            r = self._http.request(call.method, call.path, **call.kwargs())
        except httpx.HTTPError as e:
            raise unreachable(self.url, e) from None
        return finish(call, r)

    def _iterate(self, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict]:
        cursor, seen = None, 0
        while True:
            body = self.page(path, **{**params, "cursor": cursor, "limit": 200})
            for item in body["items"]:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield item
            cursor = body.get("next_cursor")
            if not cursor:
                return

    # -- lists --------------------------------------------------------------------------------
    def volumes(self, q: str | None = None, *, limit: int | None = None) -> list[Volume]:
        return [Volume.from_json(v) for v in self._iterate("/volumes", {"q": q}, limit)]

    def tree(
        self, volume_id: str, path: str = "", *, q: str | None = None, limit: int = 100,
        cursor: str | None = None,
    ) -> Page:  # fmt: skip
        body = self.tree_page(volume_id, path, q_=q, limit=limit, cursor=cursor)
        return Page(
            raw=body,
            items=[TreeEntry.from_json(e) for e in body["items"]],
            next_cursor=body.get("next_cursor"),
            truncated=body.get("truncated", False),
        )

    def datasets(
        self, q: str | None = None, *, scope: str = "all", tag: str | None = None,
        owner: str | None = None, data_type: str | None = None, limit: int | None = None,
    ) -> list[Dataset]:  # fmt: skip
        params = {"q": q, "scope": scope, "tag": tag, "owner": owner, "data_type": data_type}
        return [Dataset.from_json(d) for d in self._iterate("/datasets", params, limit)]

    def versions(self, ref: str, *, status: str | None = None) -> list[Version]:
        items = self._iterate(f"/datasets/{q(ref)}/versions", {"status": status}, None)
        return [Version.from_json(v) for v in items]

    def jobs(self, state: str | None = None, *, limit: int | None = 200) -> list[Job]:
        return [Job.from_json(j) for j in self._iterate("/jobs", {"state": state}, limit)]

    def manifest(self, ref: str, selector: str | int = "latest") -> Iterator[ManifestEntry]:
        cursor = None
        while True:
            body = self.manifest_page(ref, selector, cursor=cursor)
            for e in body["items"]:
                yield ManifestEntry.from_json(e)
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        limit = filters.pop("limit", 200)
        return list(self._iterate("/audit", filters, limit))

    # -- several requests ---------------------------------------------------------------------
    def create_and_register(
        self, name: str, volume_id: str, path: str = "", *, mode: str = "snapshot",
        message: str = "", parents: list[str] | None = None, **fields: Any,
    ) -> Version:  # fmt: skip
        """A new dataset with ``path`` of a volume as version 1. If the registration is
        refused the just-created dataset is deleted again: a refusal leaves nothing behind."""
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
        self, ref: str, selector: str | int, *, timeout: float | None = None, poll: float = 0.5,
        on_progress: Callable[[Version], None] | None = None,
    ) -> Version:  # fmt: skip
        """Poll until the version is ready; raise ``VersionFailed`` if it fails or is cancelled."""
        return waiting.poll(
            lambda: self.version(ref, selector), waiting.version_settled,
            waiting.version_late(timeout), timeout=timeout, every=poll, on_progress=on_progress,
        )  # fmt: skip

    def wait_job(
        self, job_id: int, *, timeout: float | None = None, poll: float = 0.5,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:  # fmt: skip
        """Poll until the job is done, failed or cancelled."""
        return waiting.poll(
            lambda: self.job(job_id), lambda j: j.done, waiting.job_late(timeout),
            timeout=timeout, every=poll, on_progress=on_progress,
        )  # fmt: skip

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
