"""The registry killed (kill -9) or stopped (SIGTERM) while it registers: every registration
ends ``ready`` with exactly its source's content — never partial, never failed for a restart —
and says "resumed after a restart" in its history; a job the registry keeps dying on is parked.

Each kill lands at a pause point (fermi_jupyter/registry/jobs/pause.py), not at a time that
is hoped to fall inside the copy; the test checks the copy was under way when it struck.
"""

from __future__ import annotations

import os

import pytest

from fermi_jupyter.registry.storage.objects import OBJECT_MIN

from ..support.trees import change_some, content_map, independent_digest, make_tree, wait_version
from .flows import events, leftovers, register, source, wait_job

# (files, bytes each): 8 MB of small files (each its version's own) and 48 MB of objects
# (64 KiB and more), in 20 folders: the copy is well under way at its first progress report
TREES = {"a": (2000, 4096), "b": (600, 80 << 10)}
ROUNDS = 5  # versions per tree, each killed twice: 10 kills (the tier's main cost: restarts)


def _wait_ready(client, ds: str, number: int) -> dict:
    return wait_version(client, ds, number, timeout=120)


def _assert_mid_copy(reg, src, number: int) -> None:
    ds = reg.storage_root / "datasets" / src.dataset_id
    partial = ds / f".{number}.partial"
    assert partial.is_dir() and any(partial.rglob("*.bin")), "the copy had not started"
    assert not (ds / str(number)).exists(), "the copy had already finished"


@pytest.mark.timeout(900)  # ten restarts: minutes on a busy machine
def test_kill_9_during_snapshots_never_costs_a_registration(registry, alice):
    """10 kills, each while two registrations copy at once: five versions each of two changing
    trees (2,000 small files; 600 files of 80 KiB), every registration killed twice mid-copy."""
    reg = registry
    with reg.client(alice) as c:
        sources = [
            source(c, reg.storage_root, f"kills-{reg.backend}-{k}", *TREES[k]) for k in TREES
        ]
    for i in range(ROUNDS):
        expected = []
        for k, src in enumerate(sources):
            if i:
                change_some(src.path, 0.2, seed=100 * k + i)
            expected.append((independent_digest(src.path), content_map(src.path)))
        reg.arm("copying")
        with reg.client(alice) as c:
            runs = [(src, *register(c, src)) for src in sources]
        for kill in range(2):
            markers = [reg.wait_paused("copying", job_id) for _src, _n, job_id in runs]
            for src, number, _job_id in runs:
                _assert_mid_copy(reg, src, number)
            reg.kill()
            for marker in markers:
                marker.unlink()
            if kill == 1:
                reg.disarm("copying")
            reg.start()
        for (src, number, job_id), ((digest, files, nbytes), content), (_n, size) in zip(
            runs, expected, TREES.values(), strict=True
        ):
            with reg.client(alice) as c:
                v = _wait_ready(c, src.dataset_id, number)
                job = c.get(f"/jobs/{job_id}").json()
            assert v["status"] == "ready", v
            assert (v["digest"], v["files"], v["bytes"]) == (digest, files, nbytes)
            version_dir = reg.storage_root / "datasets" / src.dataset_id / str(number)
            assert content_map(version_dir) == content
            assert job["state"] == "done" and job["error"] is None
            assert events(job) == ["queued", "started"] + ["crashed", "resumed"] * 2 + ["done"]
            assert "resumed after a restart" in [h["message"] for h in job["history"]]
            if i == 0 and size >= OBJECT_MIN:  # what killed attempts stored as objects…
                assert v["new_bytes"] < v["bytes"], v  # …was not stored again
            elif i == 0:  # small files were the killed attempts' own: copied again
                assert v["new_bytes"] == v["bytes"], v
            assert leftovers(reg.storage_root, src.dataset_id) == []
    for src, ((digest, _f, _b), _content) in zip(sources, expected, strict=True):
        assert independent_digest(src.path)[0] == digest  # the source was only read


def test_death_between_rename_and_commit_finishes_on_restart(registry, alice):
    reg = registry
    with reg.client(alice) as c:
        src = source(c, reg.storage_root, f"renamed-{reg.backend}", 500)
        reg.arm("stored")
        number, job_id = register(c, src)
        marker = reg.wait_paused("stored", job_id)
        final = reg.storage_root / "datasets" / src.dataset_id / str(number)
        assert final.is_dir()  # renamed into place …
        assert c.get(f"/datasets/{src.dataset_id}/versions/{number}").json()["status"] == (
            "processing"  # … but not recorded
        )
    inode = os.stat(final).st_ino
    reg.kill()
    marker.unlink()
    reg.disarm("stored")
    reg.start()
    with reg.client(alice) as c:
        v = _wait_ready(c, src.dataset_id, number)
        job = c.get(f"/jobs/{job_id}").json()
    assert v["status"] == "ready", v  # not "version 1 … already exists on disk"
    assert v["digest"] == independent_digest(src.path)[0]
    assert os.stat(final).st_ino == inode  # recorded as it was, not built again
    assert events(job)[-3:] == ["crashed", "resumed", "done"]
    assert leftovers(reg.storage_root, src.dataset_id) == []


def test_a_job_the_registry_keeps_dying_on_is_parked(registry, alice):
    """Three crashes in a row while running the same job (the registry's default limit):
    the job is set aside with a message and the registry goes on serving."""
    reg = registry
    with reg.client(alice) as c:
        src = source(c, reg.storage_root, f"poison-{reg.backend}", 1000)
        reg.arm("copying")
        number, job_id = register(c, src)
    for _ in range(3):
        marker = reg.wait_paused("copying", job_id)
        reg.kill()
        marker.unlink()
        reg.start()
    reg.disarm("copying")
    with reg.client(alice) as c:
        job = wait_job(c, job_id)
        v = c.get(f"/datasets/{src.dataset_id}/versions/{number}").json()
        assert job["state"] == "failed" and v["status"] == "failed"
        assert "stopped 3 times in a row" in job["error"] and v["error"] == job["error"]
        assert events(job) == ["queued", "started"] + ["crashed", "resumed"] * 2 + ["parked"]
        assert leftovers(reg.storage_root, src.dataset_id) == []
        assert not (reg.storage_root / "datasets" / src.dataset_id / str(number)).exists()
        # the registry is up and the next registration goes through
        make_tree(src.path / "more", 10, seed=5)
        number2, _ = register(c, src)
        assert _wait_ready(c, src.dataset_id, number2)["status"] == "ready"


def test_stopping_the_registry_on_purpose_never_counts(registry, alice):
    """A deploy or a node drain (SIGTERM), more times than the crash limit: the registry
    exits at once, and the job resumes every time without being parked."""
    reg = registry
    with reg.client(alice) as c:
        src = source(c, reg.storage_root, f"deploys-{reg.backend}", 1000)
        reg.arm("copying")
        number, job_id = register(c, src)
    for stop in range(3):  # as many as the crash limit: each would park the job if it counted
        marker = reg.wait_paused("copying", job_id)
        assert reg.terminate() < 10  # it does not wait for the copy
        marker.unlink()
        if stop == 2:
            reg.disarm("copying")
        reg.start()
    with reg.client(alice) as c:
        v = _wait_ready(c, src.dataset_id, number)
        job = c.get(f"/jobs/{job_id}").json()
    assert v["status"] == "ready" and v["digest"] == independent_digest(src.path)[0]
    assert events(job) == ["queued", "started"] + ["interrupted", "resumed"] * 3 + ["done"]
