"""The registry in-process, for the fast test tier: the real RegistryApp (handlers, managers,
job runner, event bus) on a real database, served on a loopback port from a thread, with
JupyterHub's own ``HubOAuth`` whose one call to the hub is answered from a table of tokens.

What it does not cover — a real hub issuing tokens, the proxy, a hub-managed service starting
and restarting — stays in the real-hub tests (``hub`` fixture).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from jupyterhub.services.auth import HubOAuth

from fermi_jupyter.registry.app import RegistryApp

from .ports import free_port

ACCESS = "access:services!service=fermi-registry"

# alice and bob share team "vision", carol is in "audio", dave is in no team, root is a hub
# admin, eve is a hub user whose token lacks the access scope
USERS: dict[str, dict[str, Any]] = {
    "alice": {"groups": ["vision"]},
    "bob": {"groups": ["vision"]},
    "carol": {"groups": ["audio"]},
    "dave": {"groups": []},
    "root": {"groups": [], "admin": True},
    "eve": {"groups": [], "scopes": []},
}


class InjectedHubAuth(HubOAuth):
    """HubOAuth with the hub's answer to ``GET /hub/api/user`` looked up in ``tokens``; token
    parsing, caching and the scope check are JupyterHub's own code."""

    tokens: dict[str, dict[str, Any]] = {}
    hub_calls = 0

    async def _api_request(self, method, url, /, **kwargs):  # type: ignore[no-untyped-def]
        type(self).hub_calls += 1
        header = kwargs.get("headers", {}).get("Authorization", "")
        model = self.tokens.get(header.partition(" ")[2])
        return dict(model) if model else None


def _model(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "user",
        "name": name,
        "admin": spec.get("admin", False),
        "groups": spec["groups"],
        "scopes": spec.get("scopes", [ACCESS, f"read:users!user={name}"]),
    }


class InProcessRegistry:
    def __init__(self, home: Path, db_url: str, **traits: Any):
        self.home = home
        self.port = free_port()
        self.app = RegistryApp()
        args = [
            f"--storage-root={home / 'storage'}",
            f"--db-url={db_url}",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--processes=1",
            *(f"--RegistryApp.{k}={v}" for k, v in traits.items()),
        ]
        self.app.initialize(args)
        self.tokens = {f"tok-{name}": _model(name, spec) for name, spec in USERS.items()}
        auth = InjectedHubAuth(
            api_url="http://127.0.0.1:1/hub/api",  # never called
            api_token="unused",
            oauth_client_id="service-fermi-registry",
            access_scopes={ACCESS},
            cache_max_age=60,
        )
        auth.tokens = self.tokens
        self.app.ctx.hub_auth = auth
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="registry", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def storage_root(self) -> Path:
        return self.home / "storage"

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.app.serve(self._stop)

        asyncio.run(main())

    def start(self) -> InProcessRegistry:
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError("the in-process registry did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        self.app.runner.shutdown(wait=True)
        self.app.engine.dispose()
        if self.app.job_engine is not None:
            self.app.job_engine.dispose()

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"token tok-{who}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def __getitem__(self, who: str) -> httpx.Client:
        """The same shape as the real-hub ``users`` fixture: ``reg["alice"]`` is her client."""
        return self.client(who if who in USERS else None)
