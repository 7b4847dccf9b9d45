"""A registry process the test starts, kills and starts again itself — at once, where a
hub-managed one is only restarted at the hub's next poll (up to 30 s). Identity still comes
from a real hub, where it is registered as an external service (``external_registry_config``).

Each registry is forked from a small server that imported the registry once (``Forker``), as
``--processes N`` forks its serving processes: a restart then costs the registry's start-up,
not a Python interpreter importing JupyterHub and SQLAlchemy again (seconds on a busy machine,
and the robustness tests restart registries dozens of times). The child is a process of its own
in a session of its own, killed with SIGKILL like any other.

Also: pause points (fermi_jupyter/registry/jobs/pause.py) to hold a job at an exact moment,
and killing a process with all its descendants, as a node or an OOM kill does.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .hub import Hub

EXTERNAL = """
# {name}: a registry the tests run themselves (tests/support/registry_process.py)
c.JupyterHub.services.append({{
    "name": {name!r}, "url": "http://127.0.0.1:{port}", "api_token": {token!r},
    "oauth_no_confirm": True, "display": False,
    "timeout": 1,  # not running when the hub starts: do not wait for it
}})
for role in c.JupyterHub.load_roles:
    if role["name"] == "user":
        role["scopes"].append("access:services!service={name}")
c.JupyterHub.load_roles.append(
    {{"name": {name!r}, "services": [{name!r}], "scopes": ["read:users", "read:groups"]}}
)
"""


def external_registry_config(name: str, port: int, token: str) -> str:
    return EXTERNAL.format(name=name, port=port, token=token)


@dataclass
class RegistryProcess:
    hub: Hub
    home: Path
    db_url: str
    name: str
    port: int
    token: str
    args: list[str] = field(default_factory=list)
    pid: int | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{self.name}/api/v1"

    @property
    def storage_root(self) -> Path:
        return self.home / "storage"

    @property
    def pause_dir(self) -> Path:
        return self.home / "pause"

    def start(self, timeout: float = 60) -> RegistryProcess:
        self.pause_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "JUPYTERHUB_API_TOKEN": self.token,
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{self.hub.api_port}/hub/api",
            "JUPYTERHUB_SERVICE_NAME": self.name,
            "JUPYTERHUB_CLIENT_ID": f"service-{self.name}",
            "JUPYTERHUB_SERVICE_PREFIX": f"/services/{self.name}/",
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{self.port}",
            "JUPYTERHUB_BASE_URL": "/",
        }
        argv = [
            f"--storage-root={self.storage_root}",
            f"--db-url={self.db_url}",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--RegistryApp.job_pause_dir={self.pause_dir}",
            "--RegistryApp.recover_interval=1",
            "--RegistryApp.processes=1",  # one process: its pid is the registry
            *self.args,
        ]
        self.starts += 1
        log = self.home / "registry.log"
        with open(log, "ab") as f:
            f.write(f"\n---- start {self.starts} ----\n".encode())
        self.pid = forker().start(argv, env, str(self.home), str(log))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the registry exited:\n{self.log_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the registry did not start in {timeout}s:\n{self.log_text()[-3000:]}")

    def alive(self) -> bool:
        return self.pid is not None and forker().poll(self.pid) is None

    def kill(self) -> None:
        """kill -9 the registry and anything it started, as an OOM kill or a lost node does."""
        assert self.pid is not None
        os.killpg(self.pid, signal.SIGKILL)
        forker().wait(self.pid, 10)
        self.pid = None

    def terminate(self, timeout: float = 15) -> float:
        """SIGTERM, as a deploy or a node drain does; returns how long it took to exit."""
        assert self.pid is not None
        t0 = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        forker().wait(self.pid, timeout)
        self.pid = None
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.pid is not None and self.alive():
            try:
                self.terminate()
            except TimeoutError:
                self.kill()

    def log_text(self) -> str:
        path = self.home / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {token}"}, timeout=30
        )

    # -- pause points -----------------------------------------------------------------------
    def arm(self, point: str) -> None:
        (self.pause_dir / f"arm-{point}").touch()

    def disarm(self, point: str) -> None:
        (self.pause_dir / f"arm-{point}").unlink(missing_ok=True)

    def wait_paused(self, point: str, job_id: int, timeout: float = 60) -> Path:
        """Wait until job ``job_id`` holds at ``point``; returns the marker (remove to go on)."""
        return wait_paused(self.pause_dir, point, job_id, timeout, self)


FORKER = r"""
import json, os, sys, time
from fermi_jupyter.registry import app  # the slow part, done once

reaped = {}
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "start":
        pid = os.fork()
        if pid == 0:  # the registry: a session of its own, its own log, its own environment
            os.setsid()
            fd = os.open(cmd["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.chdir(cmd["cwd"])
            os.environ.clear()
            os.environ.update(cmd["env"])
            code = 0
            try:
                app.main(cmd["argv"])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        reply = pid
    else:  # wait / poll: the exit status once it has ended, else null
        pid, deadline = cmd["pid"], time.monotonic() + cmd.get("timeout", 0)
        while pid not in reaped:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                reaped[pid] = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                break
            else:
                time.sleep(0.01)
        reply = reaped.get(pid)
    print(json.dumps(reply), flush=True)
"""


class Forker:
    """The fork server: one per test session, started on first use."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._lock = threading.Lock()

    def _ask(self, **cmd: object) -> object:
        with self._lock:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the registry fork server died")
        return json.loads(line)

    def start(self, argv: list[str], env: dict[str, str], cwd: str, log: str) -> int:
        return int(self._ask(op="start", argv=argv, env=env, cwd=cwd, log=log))  # type: ignore[arg-type]

    def poll(self, pid: int) -> int | None:
        return self._ask(op="wait", pid=pid, timeout=0)  # type: ignore[return-value]

    def wait(self, pid: int, timeout: float) -> int:
        code = self._ask(op="wait", pid=pid, timeout=timeout)
        if code is None:
            raise TimeoutError(f"registry {pid} still running after {timeout}s")
        return code  # type: ignore[return-value]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(10)


_forker: Forker | None = None


def forker() -> Forker:
    global _forker
    if _forker is None or _forker.proc.poll() is not None:
        _forker = Forker()
        atexit.register(_forker.close)
    return _forker


def close_forker() -> None:
    global _forker
    if _forker is not None:
        _forker.close()
        _forker = None


def wait_paused(
    folder: Path, point: str, job_id: int, timeout: float, proc: RegistryProcess | None = None
) -> Path:
    marker = folder / f"job-{job_id}-{point}"
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if time.monotonic() > deadline:
            log = proc.log_text()[-3000:] if proc else ""
            raise AssertionError(f"job {job_id} never paused at {point}\n{log}")
        time.sleep(0.01)
    return marker


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants at once."""
    for p in descendants(pid):
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(p, signal.SIGKILL)


def stop_hub(hub: Hub) -> None:
    """Stop a hub and make sure nothing it started outlives it: a hub killed while it was
    still starting leaves its managed services running, orphaned."""
    started = []
    if hub.proc is not None:
        for p in descendants(hub.proc.pid)[1:]:
            with contextlib.suppress(OSError):
                started.append((p, Path(f"/proc/{p}/cmdline").read_bytes()))
    hub.stop()
    for p, cmdline in started:
        with contextlib.suppress(OSError):  # gone already, as it should be
            if Path(f"/proc/{p}/cmdline").read_bytes() == cmdline:
                os.kill(p, signal.SIGKILL)


def service_pid(hub: Hub, marker: str = "fermi_jupyter.registry") -> int:
    """The pid of the hub's managed registry process (the top one, if it forked workers)."""
    assert hub.proc is not None
    for p in descendants(hub.proc.pid)[1:]:
        try:
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in cmdline:
            parent = int(Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()[1])
            if parent == hub.proc.pid:
                return p
    raise AssertionError("the hub runs no registry process")
