"""Turns JupyterHub's user model into an ``Identity`` (name, groups as teams, admin flag).

The model from HubAuth always has the name and groups. The admin flag is only there when the
token may read it, so the registry asks the hub with its own service token, and caches.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Bool, Float, Set, Unicode
from traitlets.config import LoggingConfigurable

from ..domain.identity import Identity


class IdentityResolver(LoggingConfigurable):
    hub_api_url = Unicode(help="JupyterHub API URL, e.g. http://127.0.0.1:8081/hub/api").tag(
        config=True
    )
    api_token = Unicode(help="This service's own hub token (JUPYTERHUB_API_TOKEN).").tag(
        config=True
    )
    cache_seconds = Float(
        30.0, help="How long a looked-up admin flag is trusted, e.g. 30 (seconds)."
    ).tag(config=True)
    admin_services = Set(
        Unicode(),
        help="Hub services treated as admins, e.g. {'fermi-spawner'} for a hub-side component "
        "that records mounts for every user.",
    ).tag(config=True)
    lookup_admin = Bool(
        True, help="Ask the hub whether a user is an admin when the token's model does not say."
    ).tag(config=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._cache: dict[str, tuple[float, bool, frozenset[str]]] = {}

    async def resolve(self, model: dict[str, Any]) -> Identity:
        kind = model.get("kind", "user")
        name = model["name"]
        if kind == "service":
            return Identity(name, frozenset(), admin=name in self.admin_services, kind="service")
        groups = frozenset(model.get("groups") or [])
        if "admin" in model:
            return Identity(name, groups, admin=bool(model["admin"]))
        admin, hub_groups = await self._lookup(name)
        return Identity(name, groups or hub_groups, admin=admin)

    async def _lookup(self, name: str) -> tuple[bool, frozenset[str]]:
        hit = self._cache.get(name)
        if hit and time.monotonic() - hit[0] < self.cache_seconds:
            return hit[1], hit[2]
        admin, groups = False, frozenset[str]()
        if self.lookup_admin and self.hub_api_url and self.api_token:
            req = HTTPRequest(
                f"{self.hub_api_url.rstrip('/')}/users/{name}",
                headers={"Authorization": f"token {self.api_token}"},
                request_timeout=10,
            )
            try:
                resp = await AsyncHTTPClient().fetch(req)
                body = json.loads(resp.body)
                admin = bool(body.get("admin"))
                groups = frozenset(body.get("groups") or [])
            except (HTTPClientError, OSError, ValueError) as e:
                self.log.warning("could not look up hub user %s: %s", name, e)
        self._cache[name] = (time.monotonic(), admin, groups)
        return admin, groups
