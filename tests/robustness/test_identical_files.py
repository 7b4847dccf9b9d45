"""Any number of identical files: empty files are created, never linked; an object that
reaches its filesystem's hard-link limit (EMLINK) gets a fresh replica, which gc and verify
know; a small file (not an object) linked that often gets a fresh copy. The limit is made
small through the engine's test seam; one real registration of 200,000 empty files runs as
well."""

from __future__ import annotations

import importlib
import os
import subprocess
import time
from collections import Counter

import pytest
from blake3 import blake3

from fermi_jupyter.registry.storage import remove_version, snapshot, sweep, verify
from fermi_jupyter.registry.storage.gc import rmtree_force

from ..support.storage import leftovers, make_layout, make_volume
from ..support.trees import independent_digest, make_tree, wait_job, wait_version

LABEL = b"the same label file\n" * 50

# the module (its name is shadowed by the function in the package)
snapshot_mod = importlib.import_module("fermi_jupyter.registry.storage.snapshot")


@pytest.fixture
def layout(tmp_path):
    return make_layout(tmp_path)


@pytest.fixture
def volume(layout):
    return make_volume(layout)


def _same_content_tree(root, copies: int, others: int = 0) -> None:
    for i in range(copies):
        d = root / f"class-{i % 7:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"label-{i:05d}.txt").write_bytes(LABEL)
    if others:
        make_tree(root / "other", others, 100)


def _objects(layout) -> list[str]:
    return sorted(
        str(p.relative_to(layout.objects_dir))[3:]
        for p in layout.objects_dir.rglob("*")
        if p.is_file()
    )


@pytest.mark.parametrize("workers", [0, 2], ids=["inline", "processes"])
def test_replicas_when_an_object_is_full(layout, volume, monkeypatch, workers):
    # object_min=0 (storage_object_min = 0): every file an object, so 1 KB ones suffice
    monkeypatch.setattr(snapshot_mod, "LINK_LIMIT", 10)
    src = volume / "d"
    _same_content_tree(src, 35)
    r1 = snapshot(layout, src, "ds-a", 1, workers=workers, object_min=0)
    r2 = snapshot(layout, src, "ds-b", 1, workers=workers, object_min=0)  # another 35 links of it
    assert (r1.digest, r1.files, r1.bytes) == independent_digest(src) == (r2.digest, 35, r1.bytes)
    names = _objects(layout)
    digest = names[0]
    # 70 uses at about 10 links per inode: the object and its replicas 1, 2, 3, …
    assert 6 <= len(names) <= 8
    assert names == [digest] + [f"{digest}.d/{k}" for k in range(1, len(names))]
    for ds, r in (("ds-a", r1), ("ds-b", r2)):
        inodes = Counter(p.stat().st_ino for p in layout.version_dir(ds, 1).rglob("*.txt"))
        assert len(inodes) >= 3 and max(inodes.values()) <= 10 and sum(inodes.values()) == 35
        assert verify(layout.version_dir(ds, 1), r.manifest_path, compare_modes=False).ok
    freed = remove_version(layout, "ds-a", 1)  # what only ds-a used
    freed += remove_version(layout, "ds-b", 1)  # and the rest
    assert freed == len(names) * 1000
    assert _objects(layout) == []


def test_gc_sweeps_orphaned_replicas(layout, volume, monkeypatch):
    monkeypatch.setattr(snapshot_mod, "LINK_LIMIT", 4)
    src = volume / "d"
    _same_content_tree(src, 12)
    r = snapshot(layout, src, "ds-a", 1, object_min=0)
    # a crash that left the version's folder gone but its objects (and replicas) behind
    rmtree_force(layout.version_dir("ds-a", 1))
    layout.manifest_path("ds-a", 1).unlink()
    assert len(_objects(layout)) == 4
    report = sweep(layout, min_age=0)
    assert report.objects == 4 and report.object_bytes == 4 * 1000
    assert _objects(layout) == [] and leftovers(layout) == []
    assert r.files == 12


def test_empty_files_are_created_not_linked(layout, volume):
    src = volume / "d"
    src.mkdir()
    for i in range(2000):
        os.mknod(src / f"empty-{i:05d}")
    r = snapshot(layout, src, "ds-a", 1)
    assert (r.digest, r.files, r.bytes) == independent_digest(src)
    assert _objects(layout) == []
    tree = layout.version_dir("ds-a", 1)
    assert {p.stat().st_nlink for p in tree.iterdir()} == {1}


def test_two_hundred_thousand_empty_files(tmp_path):
    # on a tmpfs, so making and removing 400,000 files costs memory, not the disk's journal
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256m,nr_inodes=1m", "tmpfs", mnt], check=True
    )
    try:
        layout = make_layout(mnt)
        src = make_volume(layout) / "d"
        for d in range(200):
            folder = src / f"d{d:03d}"
            folder.mkdir(parents=True)
            for i in range(1000):
                os.mknod(folder / f"e{i:04d}")
        t = time.perf_counter()
        r = snapshot(layout, src, "ds-a", 1)
        seconds = time.perf_counter() - t
        assert r.files == 200_000 and r.bytes == 0 and r.new_bytes == 0
        assert _objects(layout) == []
        tree = layout.version_dir("ds-a", 1)
        assert sum(1 for _ in (tree / "d199").iterdir()) == 1000
        print(f"200,000 empty files: {seconds:.1f} s ({1e6 * seconds / 200_000:.1f} µs a file)")
    finally:
        subprocess.run(["umount", mnt], check=True)


def test_registry_registers_more_identical_files_than_an_inode_takes(hub, users):
    # the session hub's registry runs with a link limit of 100 (tests/conftest.py)
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "labels", "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": "labels"}).json()
        src = hub.storage_root / "volumes" / vol["id"] / "data"
        _same_content_tree(src, 350, others=60)
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"})
        assert r.status_code == 202, r.text
        v = wait_version(c, ds["id"], r.json()["number"])
        assert v["status"] == "ready", v
        assert (v["digest"], v["files"]) == independent_digest(src)[:2]
        tree = hub.storage_root / "datasets" / ds["id"] / str(v["number"])
        inodes = Counter(p.stat().st_ino for p in tree.rglob("label-*.txt"))
        # 1 KB: not objects, but linked to the batch's first copy until it is full
        assert len(inodes) >= 4 and max(inodes.values()) <= 100
        label = blake3(LABEL).hexdigest()
        assert not (hub.storage_root / "objects" / label[:2] / label).exists()
        job = c.post(f"/datasets/{ds['id']}/versions/{v['number']}/verify")
        assert job.status_code == 202, job.text
        done = wait_job(c, job.json()["id"])
        assert done["state"] == "done" and done["result"]["ok"], done
