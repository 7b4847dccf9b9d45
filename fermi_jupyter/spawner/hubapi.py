"""The registry as seen from the hub, acting as one user (never as the hub itself).

The spawner and the hub's search endpoint mint a short-lived token for the user (scoped to
the registry service only) and call the registry with it, so every visibility rule applies.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

SCOPES = ["access:services!service=fermi-registry"]


class RegistryDown(Exception):
    """The registry did not answer: the form degrades instead of failing."""


class RegistryAsUser:
    def __init__(self, url: str, user: Any, token_seconds: int = 600):
        self.url = url.rstrip("/")
        self.user = user
        self.token_seconds = token_seconds
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = self.user.new_api_token(
                note="fermi: spawn form", expires_in=self.token_seconds, scopes=SCOPES
            )
        return self._token

    async def get(self, path: str, **params: Any) -> Any:
        """GET and decode JSON; None for 404 (not there, or not visible to this user)."""
        query = urlencode({k: v for k, v in params.items() if v is not None})
        req = HTTPRequest(
            f"{self.url}{path}" + (f"?{query}" if query else ""),
            headers={"Authorization": f"token {self.token()}"},
            request_timeout=10,
            connect_timeout=5,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            if e.code == 404:
                return None
            if e.code in (599,) or e.code >= 500:
                raise RegistryDown(f"the registry answered {e.code}") from None
            raise
        except OSError as e:
            raise RegistryDown(str(e)) from None
        return json.loads(resp.body)

    async def send(self, method: str, path: str, body: Any | None = None) -> Any:
        req = HTTPRequest(
            f"{self.url}{path}",
            method=method,
            body=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"token {self.token()}", "Content-Type": "application/json"},
            request_timeout=10,
            allow_nonstandard_methods=True,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except OSError as e:
            raise RegistryDown(str(e)) from None
        return json.loads(resp.body) if resp.body else None

    async def version(self, dataset: str, selector: str) -> tuple[dict | None, dict | None]:
        ds = await self.get(f"/datasets/{quote(dataset, safe='')}")
        if ds is None:
            return None, None
        v = await self.get(f"/datasets/{ds['id']}/versions/{quote(selector, safe='')}")
        return ds, v
