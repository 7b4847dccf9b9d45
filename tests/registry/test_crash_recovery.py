"""SIGKILL one of two registry processes sharing a database in the middle of a snapshot: the
other one resumes the registration, which ends ready with its source's content (never partial,
never failed for the crash), and the source is never modified. tests/robustness has the
single-registry variants (repeated kills, database restarts, crash loops)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ..support.storage_hooks import Hooks
from ..support.trees import content_map, independent_digest, make_tree, wait_version


def test_kill_9_mid_snapshot_never_leaves_partial_ready(hub, users):
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "crashy", "capacity": "10Gi"}).json()
        ds = c.post("/datasets", json={"name": "crashy"}).json()
    src = hub.storage_root / "volumes" / vol["id"] / "big"
    make_tree(src, 5000, 8192, seed=11, dirs=100)  # 40 MB in 5,000 files
    digest_before = independent_digest(src)
    content_before = content_map(src)
    mtimes_before = {p: p.stat().st_mtime_ns for p in src.rglob("*")}
    urls = [hub.registry_url, hub.registry_b_url]
    pids = [hub.registry_pid(u) for u in urls]
    hooks = Hooks(hub.home / "storage-hooks")
    hooks.arm("worker-batch")

    with users["alice"] as c:
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "big"})
        assert r.status_code == 202
        number = r.json()["number"]
        # a worker holds one batch at a pause point, so the snapshot cannot finish before the
        # kill however slow this machine is; the other worker goes on filling the half-built
        # snapshot, and the kill comes once it holds files
        worker = hooks.reached("worker-batch", timeout=120)["pid"]
        # any serving process of either registry may have claimed the job: kill the one whose
        # worker this is (killing another would not interrupt the snapshot)
        owner = _ppid(worker)
        supervisors = [_ppid(p) for p in pids]  # a registry's serving processes' parent
        killed = supervisors.index(owner if owner in supervisors else _ppid(owner))
        partial = hub.storage_root / "datasets" / ds["id"] / f".{number}.partial" / "part-000"
        deadline = time.monotonic() + 30  # (with a single worker nothing more is written)
        while time.monotonic() < deadline and not (partial.is_dir() and any(partial.iterdir())):
            time.sleep(0.005)
        os.kill(owner, signal.SIGKILL)
        hooks.disarm()  # the resumed job runs through
        # killed mid-copy: the version had not been renamed into place yet
        assert not (hub.storage_root / "datasets" / ds["id"] / str(number)).exists()

    # the other registry process notices the dead worker and resumes the job
    with hub.client(users.tokens["alice"], urls[1 - killed]) as c:
        final = wait_version(c, ds["id"], number, timeout=180)
        jobs = c.get("/jobs", params={"limit": 50}).json()["items"]
    job = next(j for j in jobs if j["version"] == final["ref"])
    assert final["status"] == "ready", final
    version_dir = hub.storage_root / "datasets" / ds["id"] / str(number)
    assert final["digest"] == digest_before[0]
    assert content_map(version_dir) == content_before
    assert [h["event"] for h in job["history"]][-3:] == ["crashed", "resumed", "done"]
    leftovers = [
        p.name
        for p in (hub.storage_root / "datasets" / ds["id"]).iterdir()
        if p.name.endswith(".partial")
    ]
    assert leftovers == []
    assert independent_digest(src) == digest_before
    assert {p: p.stat().st_mtime_ns for p in src.rglob("*")} == mtimes_before

    # and the hub brings the killed registry back
    hub.wait_ready(timeout=90)
    assert not Path(f"/proc/{owner}").exists() or "zombie" in _status(owner)
    assert hub.registry_pid(urls[killed]) != owner


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return "zombie"  # gone meanwhile
