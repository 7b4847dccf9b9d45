"""A real JupyterHub process with the registry as its managed service.

The hub uses the shipped local config (``hub_config/local``) plus a test-only service whose
token creates users, groups and per-user API tokens through the hub's REST API.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .ports import free_port

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "fermi-demo-password"  # every test user's (the shipped config's shared password)
ADMIN_PASSWORD = "fermi-admin-password-for-the-tests-only"
LOCAL_CONFIG = REPO / "hub_config" / "local" / "jupyterhub_config.py"

TEST_CONFIG = """
import copy
c = get_config()
load_subconfig({local!r})
registry = c.JupyterHub.services[0]
registry["command"].append("--RegistryApp.recover_interval=1")
registry["command"] += [  # transfers reach the test servers on loopback, and retry quickly
    "--RegistryApp.transfer_allow_loopback=True", "--RegistryApp.transfer_retry_delay=0.2",
]
"""
# a second registry process on the same database and storage: concurrency and recovery
SECOND_REGISTRY = """
second = copy.deepcopy(registry)
second.update(name="fermi-registry-b", url="http://127.0.0.1:{port_b}", display=False)
c.JupyterHub.services.append(second)
for role in c.JupyterHub.load_roles:
    if role["name"] == "user":
        role["scopes"].append("access:services!service=fermi-registry-b")
c.JupyterHub.load_roles += [
    {{"name": "fermi-registry-b", "services": ["fermi-registry-b"],
      "scopes": ["read:users", "read:groups"]}},
]
"""
TEST_SERVICE = """
c.JupyterHub.services.append({{"name": "fermi-test", "api_token": {token!r}}})
c.JupyterHub.load_roles += [
    {{"name": "fermi-test", "services": ["fermi-test"],
      "scopes": ["admin:users", "admin:groups", "tokens", "read:users", "admin:servers"]}},
]
c.Authenticator.admin_users = {{"admin", "root"}}  # hub admins exist from the start
c.JupyterHub.log_level = "WARN"
"""


@dataclass
class Hub:
    home: Path
    db_url: str
    port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    proxy_api_port: int = field(default_factory=free_port)
    registry_port: int = field(default_factory=free_port)
    registry_b_port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    second_registry: bool = True  # start fermi-registry-b beside fermi-registry
    extra_config: str = ""  # test config (Python, with ``c`` and ``registry``): both registries

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/hub/api"

    @property
    def registry_url(self) -> str:
        """The registry through the proxy, as users reach it."""
        return f"{self.url}/services/fermi-registry/api/v1"

    @property
    def registry_b_url(self) -> str:
        return f"{self.url}/services/fermi-registry-b/api/v1"

    @property
    def storage_root(self) -> Path:
        return self.home / "storage"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FERMI_HOME": str(self.home),
            "FERMI_HUB_PORT": str(self.port),
            "FERMI_HUB_API_PORT": str(self.api_port),
            "FERMI_PROXY_API_PORT": str(self.proxy_api_port),
            "FERMI_REGISTRY_PORT": str(self.registry_port),
            "FERMI_REGISTRY_DB_URL": self.db_url,
            "FERMI_DEMO_PASSWORD": PASSWORD,
            "FERMI_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PATH": f"{REPO / 'node_modules' / '.bin'}:{os.environ['PATH']}",
        }

    def start(self, timeout: float = 60) -> Hub:
        self.home.mkdir(parents=True, exist_ok=True)
        cfg = self.home / "test_config.py"
        # the extra config comes before the second registry is copied from the first: a test
        # seam set on ``registry`` (pause points, a link limit) holds in whichever of the two
        # runs a job (either may claim it)
        cfg.write_text(
            TEST_CONFIG.format(local=str(LOCAL_CONFIG))
            + self.extra_config
            + (SECOND_REGISTRY.format(port_b=self.registry_b_port) if self.second_registry else "")
            + TEST_SERVICE.format(token=self.token)
        )
        self.log = open(self.home / "hub.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(cfg)],
            cwd=self.home,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log_text()[-4000:]}")
            try:
                urls = [self.registry_url] + [self.registry_b_url] * self.second_registry
                ok = [httpx.get(f"{url}/health", timeout=2) for url in urls]
                r = ok[-1] if ok[0].status_code == 200 else ok[0]
                if all(x.status_code == 200 for x in ok):
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as e:
                last = str(e)
            time.sleep(0.25)
        raise RuntimeError(f"hub not ready in {timeout}s ({last}):\n{self.log_text()[-4000:]}")

    def log_text(self) -> str:
        return (self.home / "hub.log").read_text(errors="replace")

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api, headers={"Authorization": f"token {self.token}"}, timeout=60
        )

    def create_user(self, name: str, *, admin: bool = False, groups: tuple[str, ...] = ()) -> str:
        """Create (or reuse) a hub user and return a fresh API token for them."""
        with self.admin() as hub:
            r = hub.get(f"/users/{name}")
            if r.status_code == 404:
                hub.post(f"/users/{name}").raise_for_status()
            if admin and not hub.get(f"/users/{name}").json().get("admin"):
                raise RuntimeError(f"{name} is not in the test hub's admin_users")
            for g in groups:
                if hub.get(f"/groups/{g}").status_code == 404:
                    hub.post(f"/groups/{g}").raise_for_status()
                hub.post(f"/groups/{g}/users", json={"users": [name]}).raise_for_status()
            r = hub.post(f"/users/{name}/tokens", json={"note": "fermi tests"})
            r.raise_for_status()
            return r.json()["token"]

    def client(self, token: str | None, url: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"token {token}"} if token else {}
        return httpx.Client(base_url=url or self.registry_url, headers=headers, timeout=30)

    def registry_pid(self, url: str | None = None) -> int:
        """The pid of a managed registry process, from the worker name its health check reports."""
        worker = httpx.get(f"{url or self.registry_url}/health", timeout=5).json()["worker"]
        return int(worker.rpartition(":")[2])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if hasattr(self, "log"):
            self.log.close()
        self._stop_orphans()

    def _stop_orphans(self) -> None:
        """A hub killed before it stopped its services leaves the registry running: stop the
        processes serving this hub's storage root (and only those)."""
        mark = f"--storage-root={self.storage_root}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if mark in (entry / "cmdline").read_bytes().split(b"\0"):
                        pids.append(int(entry.name))
                except OSError:
                    continue
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if Path(f"/proc/{p}").exists()]
                time.sleep(0.1)

    def cleanup(self) -> None:
        from fermi_jupyter.registry.storage.gc import rmtree_force

        rmtree_force(self.home)  # versions are read-only trees a plain rmtree leaves behind
