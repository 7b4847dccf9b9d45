"""A volume's owner swaps folders and files for symlinks (to the host's /etc) right after the
registry checked them — timed by pause points, not by hope — and mounts appear inside a
source. Nothing outside the volume is ever read, listed or written. Run as root, like the
registry in production (a root process is exactly the one that could read /etc/shadow)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from fermi_jupyter.registry.storage import (
    StorageError,
    iter_manifest,
    restore,
    scan,
    snapshot,
    verify,
)
from fermi_jupyter.registry.storage import hooks as hooks_mod

from ..support.storage import leftovers, make_layout, make_volume, settled
from ..support.storage_hooks import Hooks
from ..support.trees import content_map, make_tree, wait_version

SHADOW = Path("/etc/shadow").read_bytes()


@pytest.fixture(autouse=True)
def as_root():
    assert os.geteuid() == 0, "these tests run as root, like the registry in production"


@pytest.fixture
def layout(tmp_path):
    return make_layout(tmp_path)


@pytest.fixture
def volume(layout):
    return make_volume(layout)


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    h = Hooks(tmp_path / "hooks")
    monkeypatch.setattr(hooks_mod, "DIR", str(h.dir))
    return h


@pytest.fixture(params=[0, 2], ids=["inline", "processes"])
def workers(request):
    return request.param


def _in_background(fn, *args, **kw):
    box: dict = {}

    def run():
        try:
            box["result"] = fn(*args, **kw)
        except BaseException as e:  # handed to the test
            box["error"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, box


def _swap_for_symlink(path: Path, target: str) -> None:
    path.rename(path.with_name(path.name + ".moved"))
    os.symlink(target, path)


def _holds_nothing_from_etc(tree: Path) -> None:
    for p in tree.rglob("*"):
        assert not p.is_symlink(), p
        if p.is_file():
            assert p.read_bytes() != SHADOW, p
    assert not any(p.name in ("shadow", "passwd", "gshadow") for p in tree.rglob("*"))


def test_source_root_swapped_after_the_check(layout, volume, hooks, workers):
    src = volume / "d"
    make_tree(src, 400, 64)
    hooks.arm("source-checked")
    t, box = _in_background(snapshot, layout, src, "ds-a", 1, workers=workers)
    hooks.reached("source-checked")
    _swap_for_symlink(src, "/etc")
    hooks.go("source-checked")
    t.join(30)
    assert isinstance(box.get("error"), StorageError), box
    assert box["error"].reason == "changed"
    assert not layout.version_dir("ds-a", 1).exists()
    assert leftovers(settled(layout)) == []
    # the same for a reference version (scan) and its drift check (verify)
    os.unlink(src)
    (volume / "d.moved").rename(src)
    r = scan(src, layout.manifest_path("ds-r", 1), workers=workers)
    for op in (
        lambda: scan(src, layout.manifest_path("ds-r", 2), workers=workers),
        lambda: verify(src, r.manifest_path, workers=workers),
    ):
        hooks.arm("source-checked")
        t, box = _in_background(op)
        hooks.reached("source-checked")
        _swap_for_symlink(src, "/etc")
        hooks.go("source-checked")
        t.join(30)
        assert isinstance(box.get("error"), StorageError) and box["error"].reason == "changed"
        os.unlink(src)
        (volume / "d.moved").rename(src)
    assert not layout.manifest_path("ds-r", 2).exists()


def test_sub_folder_swapped_after_the_listing(layout, volume, hooks, workers):
    src = volume / "d"
    make_tree(src, 400, 64)
    hooks.arm("walk-listed")  # the root's names are read; none of its folders is open yet
    t, box = _in_background(snapshot, layout, src, "ds-a", 1, workers=workers)
    assert hooks.reached("walk-listed")["rel"] == ""
    _swap_for_symlink(src / "part-001", "/etc")
    hooks.go("walk-listed")
    t.join(60)
    r = box["result"]
    assert any("part-001" in w and "symlink" in w for w in r.warnings), r.warnings
    paths = [e.path for e in iter_manifest(r.manifest_path)]
    assert paths and not any(p.startswith("part-001/") for p in paths)
    _holds_nothing_from_etc(layout.version_dir("ds-a", 1))


def test_single_file_swapped_after_the_listing(layout, volume, hooks, workers):
    src = volume / "d"
    make_tree(src, 400, 64, dirs=1)
    victim = src / "part-000" / "sample-000000.bin"
    fifo = src / "part-000" / "sample-000001.bin"
    hooks.arm("worker-batch")  # the names are in the batch; no file is open yet
    t, box = _in_background(snapshot, layout, src, "ds-a", 1, workers=workers)
    assert "sample-000000.bin" in hooks.reached("worker-batch")["names"]
    _swap_for_symlink(victim, "/etc/shadow")
    fifo.unlink()
    os.mkfifo(fifo)  # and one becomes a fifo (an open must not block on it)
    hooks.go("worker-batch")
    t.join(60)
    r = box["result"]
    assert r.files == 398
    assert any("sample-000000.bin" in w and "symlink" in w for w in r.warnings), r.warnings
    assert any("sample-000001.bin" in w for w in r.warnings), r.warnings
    _holds_nothing_from_etc(layout.version_dir("ds-a", 1))


def test_symlink_loops_end(layout, volume, workers):
    src = volume / "d"
    make_tree(src, 20, 10)
    os.symlink("b", src / "a")
    os.symlink("a", src / "b")
    os.symlink(".", src / "part-001" / "self")
    os.symlink("..", src / "part-002" / "up")
    r = snapshot(layout, src, "ds-a", 1, workers=workers)
    assert r.files == 20
    assert sum("symlink" in w for w in r.warnings) == 4


def test_other_devices_and_bind_mounts_under_the_source_are_skipped(
    layout, volume, tmp_path, workers
):
    src = volume / "d"
    make_tree(src, 30, 10)
    elsewhere = tmp_path / "elsewhere"
    make_tree(elsewhere, 5, 10, seed=9)
    (src / "tmpfs").mkdir()
    (src / "bound").mkdir()
    mounted = []
    try:
        tmpfs = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", src / "tmpfs"]
        subprocess.run(tmpfs, check=True)
        mounted.append(src / "tmpfs")
        (src / "tmpfs" / "on-another-device.txt").write_text("x")
        subprocess.run(["mount", "--bind", elsewhere, src / "bound"], check=True)
        mounted.append(src / "bound")
        r = snapshot(layout, src, "ds-a", 1, workers=workers)
        s = scan(src, layout.manifest_path("ds-r", 1), workers=workers)
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", m], check=True)
    for result in (r, s):
        assert result.files == 30
        assert any("tmpfs" in w and "mount point" in w for w in result.warnings), result.warnings
        assert any("bound" in w and "mount point" in w for w in result.warnings), result.warnings
    tree = layout.version_dir("ds-a", 1)
    assert content_map(tree) == content_map(src)  # (the mount points are empty folders now)


def test_restore_never_writes_through_a_planted_symlink(layout, volume, tmp_path, hooks, workers):
    src = volume / "d"
    make_tree(src, 400, 32)
    r = snapshot(layout, src, "ds-a", 1)
    tree = layout.version_dir("ds-a", 1)
    outside = tmp_path / "outside"
    outside.mkdir()
    # 1. the target itself is a symlink: refused, not followed
    os.symlink(outside, volume / "target")
    with pytest.raises(StorageError) as e:
        restore(tree, r.manifest_path, volume / "target", workers=workers)
    assert e.value.reason == "exists"
    # 2. a folder on the target's path becomes a symlink after the path was checked
    (volume / "a").mkdir()
    dest = volume / "a" / "b" / "new"
    _swap_for_symlink(volume / "a", str(outside))
    with pytest.raises(StorageError) as e:
        restore(tree, r.manifest_path, dest, workers=workers)
    assert e.value.reason == "changed"
    # 3. the copy being built is swapped for a symlink while the files are written
    hooks.arm("restore-ready")
    t, box = _in_background(restore, tree, r.manifest_path, volume / "c", workers=workers)
    hooks.reached("restore-ready")
    building = volume / ".c.fermi-partial"
    building.rename(volume / "moved-away")
    os.symlink(outside, building)
    hooks.go("restore-ready")
    t.join(60)
    assert box.keys() & {"result", "error"}
    assert list(outside.iterdir()) == []  # nothing was written through the symlink
    assert content_map(volume / "moved-away") == content_map(src)  # it all went to the folder


# -- the same against the real registry process -------------------------------------------------
def _register(hub, users, name: str, files: int = 400):
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": name, "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": name}).json()
    src = hub.storage_root / "volumes" / vol["id"] / "data"
    make_tree(src, files, 64, dirs=4)
    return vol, ds, src


def test_registry_refuses_a_source_swapped_after_the_check(hub, users):
    hooks = Hooks(hub.home / "storage-hooks")
    vol, ds, src = _register(hub, users, "race-root")
    hooks.arm("source-checked")
    with users["alice"] as c:
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"})
        assert r.status_code == 202, r.text
        hooks.reached("source-checked")
        _swap_for_symlink(src, "/etc")
        hooks.go("source-checked")
        v = wait_version(c, ds["id"], r.json()["number"])
    assert v["status"] == "failed" and "replaced" in v["error"], v
    datasets = hub.storage_root / "datasets" / ds["id"]
    assert not datasets.exists() or not any(datasets.iterdir())


def test_registry_skips_a_sub_folder_swapped_after_the_listing(hub, users):
    hooks = Hooks(hub.home / "storage-hooks")
    vol, ds, src = _register(hub, users, "race-sub")
    hooks.arm("walk-listed")
    with users["alice"] as c:
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"})
        assert r.status_code == 202, r.text
        hooks.reached("walk-listed")
        _swap_for_symlink(src / "part-001", "/etc")
        hooks.go("walk-listed")
        v = wait_version(c, ds["id"], r.json()["number"])
    assert v["status"] == "ready", v
    assert v["files"] == 300 and any("part-001" in w for w in v["warnings"]), v
    _holds_nothing_from_etc(hub.storage_root / "datasets" / ds["id"] / str(v["number"]))
