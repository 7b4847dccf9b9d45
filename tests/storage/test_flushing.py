"""A snapshot's files go to disk while it copies (flushing.py), on a real ext4 filesystem of
its own (a loop device, as the storage bench makes them): the device's own count of bytes
written shows it."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench import freshfs
from fermi_jupyter.registry.storage import flushing, snapshot
from fermi_jupyter.registry.storage import hooks as hooks_mod

from ..support.storage import make_layout, make_volume
from ..support.storage_hooks import Hooks
from ..support.trees import content_map, make_tree

BATCH = 500 * (16 << 10)  # one worker's batch of the tree below


def _written(mount) -> int:
    """Bytes the device under ``mount`` has written since it was attached."""
    dev = os.stat(mount).st_dev
    with open(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/stat") as f:
        return int(f.read().split()[6]) * 512


@pytest.mark.parametrize("every", [0.05, 0.0], ids=["flushing", "only-at-the-end"])
def test_a_snapshot_is_written_to_disk_while_it_copies(tmp_path, monkeypatch, every):
    assert freshfs.unavailable() is None, freshfs.unavailable()  # CI runs as root, like here
    monkeypatch.setattr(flushing, "EVERY", every)
    hooks = Hooks(tmp_path / "hooks")
    monkeypatch.setattr(hooks_mod, "DIR", str(hooks.dir))
    with freshfs.filesystem(tmp_path / "fs", "flush", 512 << 20, 50_000) as mount:
        layout = make_layout(mount)
        src = make_volume(layout) / "d"
        make_tree(src, 1500, 16 << 10, dirs=15)  # three batches of 500 files
        os.sync()
        before = _written(mount)
        hooks.arm("worker-batch")
        done = []
        t = threading.Thread(
            target=lambda: done.append(snapshot(layout, src, "ds-a", 1, workers=2))
        )
        t.start()
        try:
            hooks.reached("worker-batch")  # one worker holds its batch: the copy goes on…
            partial = layout.partial_dir("ds-a", 1)
            deadline = time.monotonic() + 30
            while sum(1 for _ in partial.rglob("*.bin")) < 500:  # …the other's is copied
                assert time.monotonic() < deadline, "the other worker copied nothing"
                time.sleep(0.02)
            time.sleep(0.5)
            written = _written(mount) - before
        finally:
            hooks.go("worker-batch")
            t.join(60)
        assert done and done[0].files == 1500
        deadline = time.monotonic() + 2
        while any(th.name == "fermi-storage-flush" for th in threading.enumerate()):
            assert time.monotonic() < deadline, "the flushing thread outlived its snapshot"
            time.sleep(0.01)
        assert content_map(layout.version_dir("ds-a", 1)) == content_map(src)
        if every:  # the copied batch is on disk while the snapshot is still copying
            assert written >= BATCH, written
        else:  # written only by the flush at the end (the journal's commits are far less)
            assert written < BATCH // 2, written


def _flushers() -> int:
    return sum(th.name == "fermi-storage-flush" for th in threading.enumerate())


def test_snapshots_at_once_on_one_filesystem_share_one_flushing_thread(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
    try:
        with flushing.flushing(fa, 0.01):
            with flushing.flushing(fb, 0.01):
                assert _flushers() == 1
            os.close(fb)  # its caller's descriptor goes: the thread flushes on with its own
            fb = -1
            time.sleep(0.05)
            assert _flushers() == 1
        deadline = time.monotonic() + 2
        while _flushers():
            assert time.monotonic() < deadline, "the flushing thread outlived its snapshots"
            time.sleep(0.01)
    finally:
        os.close(fa)
        if fb >= 0:
            os.close(fb)
