"""PostgreSQL restarted (``pg_ctl restart -m fast``) under a running registration: while it
copies, and inside the transaction that records the result. The registration ends ``ready``
with its source's content, nothing stays ``processing``, and the registry serves on."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

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


@pytest.mark.parametrize("registry", ["postgresql"], indirect=True)
def test_every_reading_thread_reads_on_after_a_restart(registry, alice, fault_pg):
    """Each of the registry's request threads keeps one autocommit connection for reads
    (``sessionpool.py``). A restart kills all of them: the first read on every thread must
    find its connection dead and answer from a new one — never a 500."""
    reg = registry
    with reg.client(alice) as c:
        r = c.post("/datasets", json={"name": "restart-readers"})
        assert r.status_code == 201, r.text
        ds = r.json()["id"]

    def burst() -> list[tuple[int, str]]:
        def read(_: int) -> tuple[int, str]:
            with reg.client(alice) as c:
                r = c.get(f"/datasets/{ds}")
                return r.status_code, r.json().get("name", r.text)

        with ThreadPoolExecutor(32) as ex:  # more than the registry's 8 request threads
            return list(ex.map(read, range(96)))

    assert set(burst()) == {(200, "restart-readers")}  # every thread holds a connection now
    fault_pg.restart()
    assert set(burst()) == {(200, "restart-readers")}
    assert set(burst()) == {(200, "restart-readers")}
