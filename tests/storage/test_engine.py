"""The engine with its worker processes: many batches, big files, tree order, progress during
the walk, cancel, a worker that dies, and giving back exactly what a failed snapshot added."""

from __future__ import annotations

import os
import signal
import stat
import threading
import time

import pytest

from fermi_jupyter.registry.storage import (
    Cancelled,
    StorageError,
    iter_manifest,
    remove_version,
    restore,
    scan,
    snapshot,
    verify,
)
from fermi_jupyter.registry.storage import hooks as hooks_mod
from fermi_jupyter.registry.storage.gc import drop_if_unused

from ..support.storage import leftovers, settled
from ..support.storage_hooks import Hooks
from ..support.trees import content_map, independent_digest, make_tree


def _nested(root, files: int) -> None:
    """A tree several batches long, 3 levels deep, with odd names and empty files/folders."""
    for i in range(files):
        d = root / f"a{i % 4}" / f"b{i % 7}" / f"c{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.bin").write_bytes(os.urandom(i % 3000) if i % 50 else b"")
    (root / "empty-dir" / "deeper").mkdir(parents=True)
    (root / "名前 with\ttab").write_text("odd")
    (root / "a0" / "b0.txt").write_text("sorts between folder a0/b0 and a0/b1")


def _objects(layout) -> set:
    return {p for p in layout.objects_dir.rglob("*") if p.is_file()}


@pytest.fixture(params=[0, 2], ids=["inline", "processes"])
def workers(request):
    return request.param


def test_many_batches_round_trip(layout, volume, workers):
    src = volume / "d"
    _nested(src, 1600 if workers else 200)
    expected = independent_digest(src)
    r = snapshot(layout, src, "ds-a", 1, workers=workers)
    assert (r.digest, r.files, r.bytes) == expected
    tree = layout.version_dir("ds-a", 1)
    assert content_map(tree) == content_map(src)
    assert (tree / "empty-dir" / "deeper").is_dir()
    paths = [e.path for e in iter_manifest(r.manifest_path)]
    assert paths == sorted(paths, key=lambda p: tuple(p.split("/")))  # tree order
    # every empty file is its own file, not a link to a shared object
    empties = [p for p in tree.rglob("*.bin") if p.stat().st_size == 0]
    assert empties and all(p.stat().st_nlink == 1 for p in empties)
    assert scan(src, layout.manifest_path("ds-r", 1), workers=workers).digest == r.digest
    rep = verify(tree, r.manifest_path, compare_modes=False, workers=workers)
    assert rep.ok and rep.digest == rep.expected_digest == r.digest
    dest = volume / "restored"
    res = restore(tree, r.manifest_path, dest, workers=workers)
    assert res.digest == r.digest and independent_digest(dest) == expected
    assert leftovers(settled(layout)) == []


def test_big_files_are_mapped_and_copied_by_the_kernel(layout, volume, workers):
    src = volume / "d"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(9 << 20))
    (src / "big-copy.bin").write_bytes((src / "big.bin").read_bytes())
    (src / "small.txt").write_text("s")
    os.chmod(src / "big.bin", 0o640)
    expected = independent_digest(src)
    r = snapshot(layout, src, "ds-a", 1, workers=workers or 2)
    assert (r.digest, r.files, r.bytes) == expected
    assert r.new_bytes == (9 << 20) + 1  # the identical big file is stored once
    tree = layout.version_dir("ds-a", 1)
    assert (tree / "big.bin").stat().st_ino == (tree / "big-copy.bin").stat().st_ino
    assert scan(src, layout.manifest_path("ds-r", 1), workers=workers).digest == r.digest
    assert verify(tree, r.manifest_path, compare_modes=False, workers=workers).ok
    dest = volume / "back"
    restore(tree, r.manifest_path, dest, workers=workers)
    assert independent_digest(dest) == expected
    assert stat.S_IMODE((dest / "big.bin").stat().st_mode) == 0o640


def test_progress_flows_during_the_walk_and_cancel_stops_it(layout, volume, monkeypatch, tmp_path):
    src = volume / "d"
    make_tree(src, 6000, 10, dirs=300)
    hooks = Hooks(tmp_path / "hooks")
    monkeypatch.setattr(hooks_mod, "DIR", str(hooks.dir))
    hooks.arm("worker-batch")  # a worker stops at its first batch: the job cannot finish
    seen = []
    cancel = threading.Event()
    outcome = []

    def run():
        try:
            snapshot(layout, src, "ds-a", 1, progress=seen.append, cancel=cancel, workers=2)
        except Cancelled:
            outcome.append(time.monotonic())

    t = threading.Thread(target=run)
    t.start()
    hooks.reached("worker-batch")
    time.sleep(1.1)
    during = list(seen)
    assert len(during) >= 4  # a report every quarter second, though little moves
    assert during[0].files_total is None  # the first, before the walk was done
    asked = time.monotonic()
    cancel.set()
    t.join(10)
    assert outcome and outcome[0] - asked < 2.0  # cancelled within 2 s (it waits 60 s)
    assert not layout.partial_dir("ds-a", 1).exists()
    assert not layout.manifest_path("ds-a", 1).exists()
    assert leftovers(settled(layout)) == []
    assert not _objects(layout)  # all given back


def test_a_worker_that_dies_fails_the_job_cleanly(layout, volume, monkeypatch, tmp_path):
    src = volume / "d"
    make_tree(src, 1500, 100, dirs=15)
    hooks = Hooks(tmp_path / "hooks")
    monkeypatch.setattr(hooks_mod, "DIR", str(hooks.dir))
    hooks.arm("worker-batch")
    errors = []

    def run():
        try:
            snapshot(layout, src, "ds-a", 1, workers=2)
        except StorageError as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    pid = hooks.reached("worker-batch")["pid"]
    os.kill(pid, signal.SIGKILL)
    t.join(30)
    assert not t.is_alive()
    assert errors and "worker process stopped" in str(errors[0])
    assert not layout.partial_dir("ds-a", 1).exists() and leftovers(settled(layout)) == []


def test_a_failed_snapshot_gives_back_only_what_it_added(layout, volume, monkeypatch, tmp_path):
    # object_min=0 (storage_object_min = 0): every file an object, so small files suffice
    shared = volume / "shared"
    make_tree(shared, 600, 200, seed=5)
    kept = snapshot(layout, shared, "ds-b", 1, workers=2, object_min=0)
    before = _objects(layout)
    src = volume / "d"
    make_tree(src / "new", 900, 300, seed=6)  # new content (first in tree order)…
    make_tree(src, 600, 200, seed=5)  # …and the same content as ds-b: nothing new
    hooks = Hooks(tmp_path / "hooks")
    monkeypatch.setattr(hooks_mod, "DIR", str(hooks.dir))
    hooks.arm("worker-batch")
    cancel = threading.Event()
    outcome = []

    def run():
        try:
            snapshot(layout, src, "ds-a", 1, cancel=cancel, workers=2, object_min=0)
        except Cancelled:
            outcome.append("cancelled")

    t = threading.Thread(target=run)
    t.start()
    hooks.reached("worker-batch")  # one worker holds its batch: the snapshot cannot finish
    deadline = time.monotonic() + 30
    while len(_objects(layout)) <= len(before) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(_objects(layout)) > len(before)  # it had stored new objects when cancelled
    cancel.set()
    t.join(30)
    assert outcome, "the snapshot was not cancelled"
    after = _objects(settled(layout))
    assert after == before  # ds-b's objects stay, ds-a's new ones are gone
    assert verify(layout.version_dir("ds-b", 1), kept.manifest_path, compare_modes=False).ok


def test_dropping_an_object_a_snapshot_just_linked_keeps_it(layout, volume):
    src = volume / "d"
    make_tree(src, 3, 100)
    r = snapshot(layout, src, "ds-a", 1, object_min=0)
    digest = next(iter_manifest(r.manifest_path)).digest
    name = f"{digest[:2]}/{digest}"
    # the race: a failing snapshot frees "its" object while another version links it
    assert drop_if_unused(layout.objects_dir, name) == 0
    assert (layout.objects_dir / name).exists()
    assert not [p for p in layout.objects_dir.rglob(".drop-*")]
    remove_version(layout, "ds-a", 1)
    assert not (layout.objects_dir / name).exists()


def test_verify_reports_stored_files_that_became_writable(layout, volume):
    src = volume / "d"
    make_tree(src, 10, 100)
    r = snapshot(layout, src, "ds-a", 1)
    tree = layout.version_dir("ds-a", 1)
    os.chmod(tree / "part-001" / "sample-000001.bin", 0o644)
    os.chown(tree / "part-002" / "sample-000002.bin", 1000, 1000)
    os.chmod(tree / "part-003", 0o755)
    rep = verify(tree, r.manifest_path, compare_modes=False)
    assert not rep.ok and rep.n_changed == 0
    assert sorted(rep.unprotected) == [
        "part-001/sample-000001.bin",
        "part-002/sample-000002.bin",
        "part-003/",
    ]


def test_stored_files_are_read_only_and_the_stores(layout, volume):
    src = volume / "d"
    make_tree(src, 20, 100)
    os.chown(volume, 1000, 1000)
    for p in src.rglob("*"):
        os.chown(p, 1000, 1000)
    snapshot(layout, src, "ds-a", 1, workers=2)
    for p in [layout.version_dir("ds-a", 1), *layout.version_dir("ds-a", 1).rglob("*")]:
        st = p.stat()
        assert st.st_uid == os.geteuid(), p  # never the source owner's: they cannot chmod
        assert stat.S_IMODE(st.st_mode) == (0o555 if p.is_dir() else 0o444), p


def test_workers_are_reused_clean_and_shut_down(layout, volume):
    from fermi_jupyter.registry.storage import pool

    src = volume / "d"
    make_tree(src, 1200, 10, dirs=12)
    pool.shutdown()
    snapshot(layout, src, "ds-a", 1, workers=2)
    first = _mine()
    assert len(first) == 2  # idle, waiting for the next operation…
    for pid in first:  # …holding nothing of the last one
        held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        assert not [p for p in held if p.startswith(str(layout.root))], held
    scan(src, layout.manifest_path("ds-r", 1), workers=2)
    assert _mine() == first  # the same processes did the next one
    pool.shutdown()
    time.sleep(0.2)
    assert _mine() == []


def _mine() -> list[str]:
    return sorted(
        pid
        for pid in os.listdir("/proc")
        if pid.isdigit() and _ppid(pid) == os.getpid() and b"storage.worker" in _cmdline(pid)
    )


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""
