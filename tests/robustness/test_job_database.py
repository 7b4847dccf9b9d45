"""PostgreSQL restarted (``pg_ctl restart -m fast``) under a running registration: while it
copies, and inside the transaction that records the result. The registration ends ``ready``
with its source's content, nothing stays ``processing``, and the registry serves on."""

from __future__ import annotations

import time

import pytest

from ..support.trees import content_map, independent_digest, wait_version
from .flows import events, leftovers, register, source


@pytest.mark.parametrize("registry", ["postgresql"], indirect=True)
def test_postgres_restarts_mid_copy_and_mid_commit(registry, alice, fault_pg):
    reg = registry
    with reg.client(alice) as c:
        src = source(c, reg.storage_root, "pg-blips", 3000)
        digest, content = independent_digest(src.path), content_map(src.path)
        reg.arm("copying")
        reg.arm("publishing")
        number, job_id = register(c, src)

    # a few seconds into the copy: every connection of the registry dies
    marker = reg.wait_paused("copying", job_id)
    fault_pg.restart()
    time.sleep(1.5)  # more than a heartbeat interval: the job goes on without its database
    reg.disarm("copying")
    marker.unlink()

    # the result is being recorded, the transaction holds a connection: it dies too
    marker = reg.wait_paused("publishing", job_id)
    fault_pg.restart()
    reg.disarm("publishing")
    marker.unlink()

    with reg.client(alice) as c:
        v = wait_version(c, src.dataset_id, number, timeout=120)
        job = c.get(f"/jobs/{job_id}").json()
        stuck = [
            j for j in c.get("/jobs", params={"limit": 200}).json()["items"]
            if j["state"] in ("queued", "running", "cancelling")
        ]  # fmt: skip
    assert v["status"] == "ready", v
    assert (v["digest"], v["files"], v["bytes"]) == digest
    version_dir = reg.storage_root / "datasets" / src.dataset_id / str(number)
    assert content_map(version_dir) == content
    # one attempt, never failed, never restarted: the blip was absorbed where it struck
    assert events(job) == ["queued", "started", "done"] and job["attempts"] == 1
    assert stuck == []
    assert leftovers(reg.storage_root, src.dataset_id) == []
    log = reg.log_text()
    assert "recording the result of job" in log and "trying again" in log
