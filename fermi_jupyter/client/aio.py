"""``AsyncRegistryClient``: the client's async face (httpx.AsyncClient), for the server
extension. The same verbs as ``RegistryClient``, each a coroutine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .calls import Call, Endpoints, finish, q, settings, unreachable
from .errors import FermiError, from_response
from .models import Version
from .transfers import TransferEndpoints


class AsyncRegistryClient(TransferEndpoints, Endpoints):
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.url, headers = settings(url, token)
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> Any:
        try:
            r = await self._http.request(call.method, call.path, **call.kwargs())
        except httpx.HTTPError as e:
            raise unreachable(self.url, e) from None
        return finish(call, r)

    async def create_and_register(
        self, name: str, volume_id: str, path: str = "", *, mode: str = "snapshot",
        message: str = "", parents: list[str] | None = None, **fields: Any,
    ) -> tuple[Any, Version]:  # fmt: skip
        """A new dataset with ``path`` of a volume as version 1; a refused registration
        deletes the dataset again, so nothing half-made stays."""
        ds = await self.create_dataset(name, **fields)
        try:
            v = await self.register(
                ds.id, volume_id, path, mode=mode, message=message, parents=parents
            )
        except FermiError:
            with contextlib.suppress(FermiError):  # the refusal is the error worth showing
                await self.delete_dataset(ds.id)
            raise
        return ds, v

    async def jobs_page(
        self, state: str | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        return await self._send(
            Call("GET", "/jobs", {"state": state, "limit": limit, "cursor": cursor})
        )

    @contextlib.asynccontextmanager
    async def stream_events(
        self, *, last_event_id: str | None = None, dataset_id: str | None = None
    ) -> AsyncIterator[httpx.Response]:
        """The registry's event stream as an open response (read it with ``aiter_lines``)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        params = {"dataset_id": dataset_id} if dataset_id else {}
        timeout = httpx.Timeout(10.0, read=None)
        try:
            async with self._http.stream(
                "GET", "/events", params=params, headers=headers, timeout=timeout
            ) as r:
                if r.status_code >= 400:
                    await r.aread()
                    try:
                        body = r.json()
                    except ValueError:
                        body = None
                    raise from_response(r.status_code, body if isinstance(body, dict) else None)
                yield r
        except httpx.HTTPError as e:
            raise unreachable(self.url, e) from None


__all__ = ["AsyncRegistryClient", "q"]
