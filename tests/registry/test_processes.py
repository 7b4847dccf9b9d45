"""Several registry processes on one database, for real: the hub runs two registry services
(``fermi-registry`` and ``fermi-registry-b``), each with ``--processes`` defaulting to the
number of cores (two here), all sharing one database and storage root.

- the jobs run in one process of their own (``fermi-jobs``), niced below the serving ones, and
  the serving processes wake it through a pipe; ``job_process=False`` keeps them in the
  serving processes;
- a job is run by exactly one process;
- an event published by a job in one process reaches a subscriber on another;
- 50 event-stream clients — some never reading, some resetting — leave the registry's file
  descriptors and memory where they were, and the slowest never holds up the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fermi_jupyter.registry import db as dbmod
from fermi_jupyter.registry.app import JOB_PROCESS_NAME
from fermi_jupyter.registry.events import EventBus
from fermi_jupyter.registry.orm import Job

from ..support.sse import SSEClient
from ..support.trees import make_tree, wait_version


def registry_pids(hub, url: str) -> list[int]:
    """Every process of one registry service: the children of its supervisor (its serving
    processes and its job process)."""
    pid = hub.registry_pid(url)
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    children = Path(f"/proc/{ppid}/task/{ppid}/children").read_text().split()
    return [int(p) for p in children] or [pid]


def is_job_process(pid: int) -> bool:
    return Path(f"/proc/{pid}/comm").read_text().strip() == JOB_PROCESS_NAME


def job_workers(db_url: str, job_ids: list[int]) -> set[int]:
    """The pids that claimed these jobs (from the worker names the runner writes)."""
    engine = dbmod.make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Job.worker).where(Job.id.in_(job_ids))).scalars()
            return {int(w.rpartition(":")[2]) for w in rows}
    finally:
        engine.dispose()


def fds(pids: list[int]) -> int:
    """Open descriptors, not counting database files (the connection pool keeps up to its
    size open by design, however many clients come and go)."""
    n = 0
    for p in pids:
        for fd in os.listdir(f"/proc/{p}/fd"):
            with contextlib.suppress(OSError):
                n += ".sqlite" not in os.readlink(f"/proc/{p}/fd/{fd}")
    return n


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def test_each_service_runs_several_processes_and_one_for_jobs(hub):
    for url in (hub.registry_url, hub.registry_b_url):
        pids = registry_pids(hub, url)
        serving = [p for p in pids if not is_job_process(p)]
        jobs = [p for p in pids if is_job_process(p)]
        assert len(serving) == len(os.sched_getaffinity(0)) and len(jobs) == 1, pids
        # requests first: the job process yields the cores to the serving ones
        assert os.getpriority(os.PRIO_PROCESS, jobs[0]) == 10
        assert all(os.getpriority(os.PRIO_PROCESS, p) == 0 for p in serving)
        # it serves nothing: the health check always answers from a serving process
        for _ in range(10):
            assert hub.registry_pid(url) in serving


def test_both_services_have_the_test_seams(hub):
    """Either registry's job process may claim a job (each also takes unclaimed ones every
    ``recover_interval``): a test holding a registration at a storage pause point, or counting
    on the small hard-link limit, must find them in both. (Once only the first had them, and a
    job the second claimed ran straight past the pause point its test waited at.)"""
    for url in (hub.registry_url, hub.registry_b_url):
        for pid in registry_pids(hub, url):
            env = dict(
                e.split(b"=", 1)
                for e in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                if e
            )
            assert env.get(b"FERMI_STORAGE_HOOKS") == str(hub.home / "storage-hooks").encode(), url
            assert env.get(b"FERMI_STORAGE_TEST_LINK_LIMIT") == b"100", url


def test_jobs_run_once_and_events_cross_processes(hub, users):
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "procs", "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": "procs"}).json()
    make_tree(hub.storage_root / "volumes" / vol["id"] / "d", 3, 64)
    token = users.tokens["alice"]
    b_events = f"http://127.0.0.1:{hub.registry_b_port}/services/fermi-registry-b/api/v1/events"
    listener = SSEClient(f"{b_events}?dataset_id={ds['id']}", token)
    assert listener.status == 200

    def register(i: int) -> int:  # all through service A: its processes run the jobs
        with hub.client(token) as c:
            r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "d"})
            assert r.status_code == 202, r.text
            return r.json()["number"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = sorted(pool.map(register, range(20)))
    assert numbers == list(range(1, 21))
    ready: set[int] = set()
    deadline = time.monotonic() + 120
    while len(ready) < 20 and time.monotonic() < deadline:
        _, _, data = listener.next_event()  # on service B: none of these jobs ran there
        if data.get("status") == "ready":
            ready.add(data["number"])
    listener.close()
    assert ready == set(numbers)
    with users["alice"] as c:
        for n in numbers:
            assert wait_version(c, ds["id"], n)["status"] == "ready"
        jobs = c.get("/jobs", params={"limit": 1000}).json()["items"]
        mine = [j for j in jobs if j["version"] and j["version"].startswith(ds["id"] + "@")]
        assert len(mine) == 20
        assert all(j["state"] == "done" and j["attempts"] == 1 for j in mine), mine
    # run by the job processes (A's, unless B's recovery pass found one still queued first)
    job_pids = {
        p for url in (hub.registry_url, hub.registry_b_url) for p in registry_pids(hub, url)
    }
    ran = job_workers(hub.db_url, [j["id"] for j in mine])
    assert ran and all(is_job_process(p) for p in ran) and ran <= job_pids, ran


@pytest.mark.slow
def test_fifty_stream_clients_slow_and_resetting(hub, users):
    url = f"http://127.0.0.1:{hub.registry_b_port}/services/fermi-registry-b/api/v1/events"
    token = users.tokens["alice"]
    pids = registry_pids(hub, hub.registry_b_url)
    engine = dbmod.make_engine(hub.db_url)
    publisher = EventBus(engine)  # this test process is "another registry process"
    try:
        # the first rounds warm allocator arenas (one per thread), pools and buffers, and each
        # pooled connection's cache fills as the event log grows: memory climbs for a few
        # rounds, by steps that differ between machines (measured: +10, +7, +4, +0.4, +3.7,
        # +0.5, +0, +0). A leak grows in *every* round — about 6 MB a process a round when the
        # flood's frames are kept — so memory must settle: two rounds in a row that add less
        # than SETTLED_MB in all, within ten rounds
        _fifty_clients(url, token, publisher)
        fds0, rss = _settled(pids)
        kinds0 = _fd_kinds(pids)
        clients0 = _client_sockets(pids, hub.registry_b_port)
        held = SSEClient(url, token)  # the count sees a stream client that is still connected
        assert _client_sockets(pids, hub.registry_b_port) >= clients0 + 1
        held.close()
        history = [rss]
        for _ in range(10):
            _fifty_clients(url, token, publisher)
            fds_now, rss = _settled(pids, fds0 + FD_SLACK)
            clients = _client_sockets(pids, hub.registry_b_port)
            assert clients <= clients0 + 1, (clients0, clients, kinds0, _fd_kinds(pids))
            assert fds_now <= fds0 + FD_SLACK, (fds0, fds_now, kinds0, _fd_kinds(pids))
            history.append(rss)
            if len(history) >= 3 and history[-1] - history[-3] < SETTLED_MB:
                break
        else:
            raise AssertionError(f"memory never settled (MB after each round): {history}")
    finally:
        engine.dispose()
    with httpx.Client() as c:  # and it still serves
        assert c.get(f"{hub.registry_b_url}/health").status_code == 200


SETTLED_MB = 5.0  # two processes: a leak of 6 MB a process a round adds 24 in two rounds
# the fifty clients' own sockets, if leaked, add tens in every round; they are counted on their
# own (accepted connections), so the slack on all descriptors is for the database pools, which
# may keep a few more connections open after a later round (seen: 33 against 32, 39 against 35
# on PostgreSQL) but never more than their size
FD_SLACK = 8


def _settled(pids: list[int], fds_target: int = 0) -> tuple[int, float]:
    deadline = time.monotonic() + 30
    while fds_target and fds(pids) > fds_target and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    return fds(pids), rss_mb(pids)


def _fifty_clients(url: str, token: str, publisher: EventBus) -> None:
    n_events, pad = 3000, "x" * 2000  # ~6 MB: more than any socket buffer holds
    readers = [SSEClient(url, token) for _ in range(30)]
    stuck = [SSEClient(url, token, rcvbuf=4096) for _ in range(10)]  # never read
    resetting = [SSEClient(url, token) for _ in range(10)]
    time.sleep(1)  # every stream is subscribed before the first event
    results: dict[int, list[int]] = {}

    def read_all(i: int, c: SSEClient) -> None:
        ids = []
        while len(ids) < n_events:
            ids.append(c.next_event()[1])
        results[i] = ids
        c.close()

    def read_reset_resume(i: int, c: SSEClient) -> None:
        ids = [c.next_event()[1] for _ in range(50 + i * 10)]
        c.reset()
        time.sleep(0.2)
        c = SSEClient(url, token, last_event_id=ids[-1])
        while len(ids) < n_events:
            ids.append(c.next_event()[1])
        results[100 + i] = ids
        c.close()

    threads = [threading.Thread(target=read_all, args=(i, c)) for i, c in enumerate(readers)]
    threads += [
        threading.Thread(target=read_reset_resume, args=(i, c)) for i, c in enumerate(resetting)
    ]
    for t in threads:
        t.start()
    for start in range(0, n_events, 500):
        publisher.append(
            [
                {
                    "type": "version",
                    "ref": f"ds-flood@{i}",
                    "i": i,
                    "pad": pad,
                    "_acl": ("alice", None, "private"),
                }
                for i in range(start, start + 500)
            ]
        )
    for t in threads:
        t.join(180)
    # readers and resumed clients got everything, in order, while 10 clients read nothing
    assert len(results) == 40
    for ids in results.values():
        assert ids == list(range(ids[0], ids[0] + n_events)), "a gap or a repeat"
    assert all(_unread(c.sock) > 0 for c in stuck)  # their buffers really are full
    for c in stuck:
        c.reset()


def _unread(sock: socket.socket) -> int:
    import fcntl
    import struct
    import termios

    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def _client_sockets(pids: list[int], port: int) -> int:
    """Connections the processes accepted on ``port`` and still hold (not the listening
    sockets, nor their database connections): a stream client's socket, if leaked."""
    inodes = set()
    for p in pids:
        for fd in os.listdir(f"/proc/{p}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{p}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    held = set()
    for table in ("tcp", "tcp6"):  # (the processes share one network namespace: read once)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pids[0]}/net/{table}").read_text().splitlines()[1:]:
                f = line.split()
                local_port, state, inode = int(f[1].rsplit(":", 1)[1], 16), f[3], f[9]
                if local_port == port and state != "0A" and inode in inodes:  # 0A: LISTEN
                    held.add(inode)
    return len(held)


def _fd_kinds(pids: list[int]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for p in pids:
        for fd in os.listdir(f"/proc/{p}/fd"):
            try:
                target = os.readlink(f"/proc/{p}/fd/{fd}")
            except OSError:
                continue
            key = target.split(":")[0] if ":" in target else target.rsplit("/", 1)[-1]
            kinds[key] = kinds.get(key, 0) + 1
    return kinds


def _start_registry(tmp_path: Path, port: int, *args: str, expect: int = 3) -> subprocess.Popen:
    env = {**os.environ, "JUPYTERHUB_API_TOKEN": "unused", "JUPYTERHUB_SERVICE_PREFIX": "/"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fermi_jupyter.registry",
            f"--storage-root={tmp_path}",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--processes=2",
            *args,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/api/v1/health"
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == expect, f"expected {expect} processes, found {children}"
    except BaseException:
        # the caller's try/finally has not begun: stop what was started here (its own session)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        raise
    proc.children = [int(c) for c in children]  # type: ignore[attr-defined]
    return proc


def _gone(pids: list[int], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text()
        ]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_job_process_can_be_turned_off(tmp_path):
    """``job_process=False``: two serving processes and no other, both at the registry's own
    priority (each runs jobs in its own threads, as a single process always does)."""
    from ..support.ports import free_port

    proc = _start_registry(tmp_path, free_port(), "--RegistryApp.job_process=False", expect=2)
    children = proc.children  # type: ignore[attr-defined]
    try:
        assert not any(is_job_process(p) for p in children)
        assert all(os.getpriority(os.PRIO_PROCESS, p) == 0 for p in children)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
        assert _gone(children)


def test_a_killed_job_process_is_replaced_and_loses_no_registration(hub, users):
    """kill -9 of the job process: the supervisor starts another, and a registration asked for
    while none was running (its wake-up waiting in the pipe) still ends ready."""
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "jobkill", "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": "jobkill"}).json()
    make_tree(hub.storage_root / "volumes" / vol["id"] / "d", 5, 256)
    (old,) = [p for p in registry_pids(hub, hub.registry_url) if is_job_process(p)]
    os.kill(old, signal.SIGKILL)
    with users["alice"] as c:
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "d"})
        assert r.status_code == 202, r.text
        v = wait_version(c, ds["id"], r.json()["number"], timeout=60)
    assert v["status"] == "ready", v
    deadline = time.monotonic() + 30
    new: list[int] = []
    while time.monotonic() < deadline and not new:
        new = [p for p in registry_pids(hub, hub.registry_url) if is_job_process(p)]
        time.sleep(0.1)
    assert len(new) == 1 and new[0] != old
    assert os.getpriority(os.PRIO_PROCESS, new[0]) == 10


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_serving_processes_never_outlive_their_supervisor(tmp_path, how):
    """SIGTERM stops every process; a supervisor killed with SIGKILL takes its children with
    it (none may keep serving the port after the hub has started a new registry)."""
    from ..support.ports import free_port

    proc = _start_registry(tmp_path, free_port())
    children = proc.children  # type: ignore[attr-defined]
    try:
        os.kill(proc.pid, getattr(signal, how))
        proc.wait(30)
        assert _gone(children), f"serving processes outlived the supervisor ({how})"
    finally:
        for p in [proc.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
