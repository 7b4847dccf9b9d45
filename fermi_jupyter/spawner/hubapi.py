"""The registry as seen from the hub, acting as one user (never as the hub itself).

The spawner and the hub's search endpoint mint a short-lived token for the user (scoped to
the registry service only) and call the registry with it, so every visibility rule applies.
Failures come in three kinds, each with its own message: the registry cannot be reached
(``RegistryDown``), it failed on its side (``RegistryFailed``, a 5xx), or it refused the
request (``RegistryRefused``, a 4xx, with the registry's own ``message``).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..i18n import msg

SERVICE = "fermi-registry"
SCOPES = [f"access:services!service={SERVICE}"]
REUSE_MARGIN = 60.0  # seconds a shared token must still have left to be used again
_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}  # (user, registry) → (token, expires)


class RegistryUnavailable(Exception):
    """The registry gave no usable answer; the form degrades instead of failing."""


class RegistryDown(RegistryUnavailable):
    """The registry did not answer (connection refused, timeout)."""


class RegistryFailed(RegistryUnavailable):
    """The registry answered with a 5xx: an error on its side, not the user's."""

    def __init__(self, status: int):
        super().__init__(
            msg("the dataset registry failed (HTTP {status}); try again later", status=status)
        )
        self.status = status


class RegistryRefused(Exception):
    """A 4xx other than 404: the registry's ``message`` says what was wrong."""

    def __init__(self, status: int, message: str, reason: str = ""):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class TokenUnavailable(RegistryUnavailable):
    """The hub would not make a registry token for this user (a configuration problem)."""


def _error_body(body: bytes | None) -> tuple[str, str]:
    try:
        data = json.loads(body or b"")
        return str(data.get("message") or ""), str(data.get("reason") or "")
    except (ValueError, AttributeError):
        return "", ""


class RegistryAsUser:
    def __init__(self, url: str, user: Any, token_seconds: int = 600):
        self.url = url.rstrip("/")
        self.user = user
        self.token_seconds = token_seconds

    def token(self) -> str:
        """A registry-only token for this user, shared by the hub's calls for that user while
        it has a minute left (each new token costs a hub database write, and the registry a
        look-up it cannot cache)."""
        key = (getattr(self.user, "name", ""), self.url)
        hit = _TOKENS.get(key)
        if hit and hit[1] - time.monotonic() > REUSE_MARGIN:
            return hit[0]
        try:
            token = self.user.new_api_token(
                note="fermi: spawn form", expires_in=self.token_seconds, scopes=SCOPES
            )
        except Exception as e:  # e.g. the user's roles do not allow the registry scope
            raise TokenUnavailable(
                msg(
                    "the hub could not give you a token for the dataset registry ({error}); "
                    "ask the admin to grant {scope} to users",
                    error=str(e),
                    scope=SCOPES[0],
                )
            ) from None
        _TOKENS[key] = (token, time.monotonic() + self.token_seconds)
        return token

    def forget_token(self) -> None:
        _TOKENS.pop((getattr(self.user, "name", ""), self.url), None)

    async def _call(self, make: Any) -> Any:
        """``make(token)`` → request; a token the registry no longer accepts (revoked, a user
        made again) is dropped and the call made once more with a new one."""
        try:
            return await self._fetch(make(self.token()))
        except RegistryRefused as e:
            if e.status not in (401, 403):
                raise
            self.forget_token()
            return await self._fetch(make(self.token()))

    async def _fetch(self, req: HTTPRequest) -> Any:
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            if e.code == 599:
                raise RegistryDown(
                    msg("the dataset registry did not answer ({error})", error=str(e))
                ) from None
            if e.code >= 500:
                raise RegistryFailed(e.code) from None
            body = e.response.body if e.response is not None else None
            message, reason = _error_body(body)
            raise RegistryRefused(e.code, message or f"HTTP {e.code}", reason) from None
        except OSError as e:
            raise RegistryDown(
                msg("the dataset registry is not reachable ({error})", error=str(e))
            ) from None
        return json.loads(resp.body) if resp.body else None

    async def get(self, path: str, **params: Any) -> Any:
        """GET and decode JSON; None for 404 (not there, or not visible to this user)."""
        query = urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        try:
            return await self._call(
                lambda token: HTTPRequest(
                    url,
                    headers={"Authorization": f"token {token}"},
                    request_timeout=10,
                    connect_timeout=5,
                )
            )
        except RegistryRefused as e:
            if e.status == 404:
                return None
            raise

    async def send(self, method: str, path: str, body: Any | None = None) -> Any:
        return await self._call(
            lambda token: HTTPRequest(
                f"{self.url}{path}",
                method=method,
                body=json.dumps(body) if body is not None else None,
                headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
                request_timeout=10,
                connect_timeout=5,
                allow_nonstandard_methods=True,
            )
        )

    async def dataset(self, ref: str) -> dict | None:
        return await self.get(f"/datasets/{quote(ref, safe='')}")

    async def version(self, dataset: str, selector: str) -> tuple[dict | None, dict | None]:
        ds = await self.dataset(dataset)
        if ds is None:
            return None, None
        v = await self.get(f"/datasets/{ds['id']}/versions/{quote(selector, safe='')}")
        return ds, v
