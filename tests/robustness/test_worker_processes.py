"""Worker processes die with the registry: after a SIGKILL of the process that started them,
none is left running (PR_SET_PDEATHSIG), in the engine and in the real registry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from fermi_jupyter.registry.app import JOB_PROCESS_NAME

from ..support.storage_hooks import Hooks
from ..support.trees import make_tree, wait_version

CHILD = """
import sys
from pathlib import Path
from fermi_jupyter.registry.storage import StorageLayout, snapshot
layout = StorageLayout(Path(sys.argv[2]))
snapshot(layout, Path(sys.argv[1]), "ds-kill", 1, workers=2)
"""


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _workers_of(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) == parent:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"storage.worker" in f.read():
                        out.append(int(entry))
            except OSError:
                continue
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def test_workers_die_with_the_process_that_started_them(tmp_path):
    src = tmp_path / "src"
    make_tree(src, 1500, 100, dirs=15)
    hooks = Hooks(tmp_path / "hooks")
    hooks.arm("worker-batch")  # hold a worker mid-operation: both are alive and busy
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(src), str(tmp_path / "root")],
        env={**os.environ, "FERMI_STORAGE_HOOKS": str(hooks.dir)},
    )
    try:
        held = hooks.reached("worker-batch")["pid"]
        workers = _workers_of(child.pid)
        assert held in workers and len(workers) == 2
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert _gone_within(workers, 2.0) == []
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_no_orphans_after_kill_9_of_the_registry(hub, users):
    hooks = Hooks(hub.home / "storage-hooks")
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "orphans", "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": "orphans"}).json()
    src = hub.storage_root / "volumes" / vol["id"] / "data"
    make_tree(src, 2000, 100, dirs=20)
    supervisor = _ppid(hub.registry_pid())  # a serving process's parent
    hooks.arm("worker-batch")
    try:
        with users["alice"] as c:
            r = c.post(
                f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"}
            )
            assert r.status_code == 202, r.text
            number = r.json()["number"]
            held = hooks.reached("worker-batch")["pid"]
        # the workers belong to the registry's job process (or, when another registry's
        # recovery pass claimed the job first, to that one's): the process to kill
        registry = _ppid(held)
        with open(f"/proc/{registry}/comm") as f:
            assert f.read().strip() == JOB_PROCESS_NAME
        assert _ppid(registry) == supervisor or _ppid(_ppid(registry)) == _ppid(supervisor)
        workers = _workers_of(registry)
        assert held in workers, (held, workers)
        # it yields the cores to the serving processes (RegistryApp.storage_nice)
        assert os.getpriority(os.PRIO_PROCESS, held) == 10
        os.kill(registry, signal.SIGKILL)
        assert _gone_within(workers, 2.0) == []
    finally:
        hooks.disarm()
    # the job is not lost: another registry process takes it over
    with hub.client(users.tokens["alice"], hub.registry_b_url) as c:
        final = wait_version(c, ds["id"], number, timeout=180)
    assert final["status"] in ("ready", "failed"), final
    hub.wait_ready(timeout=90)
