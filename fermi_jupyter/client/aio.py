"""``AsyncRegistryClient``: the client's async face (httpx.AsyncClient), for the server
extension. The same verbs as ``RegistryClient``, each a coroutine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .calls import Call, Endpoints, finish, q, settings, unreachable
from .errors import from_response
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
