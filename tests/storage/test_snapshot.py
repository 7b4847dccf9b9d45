"""Snapshots: content, digests, de-duplication, quick checks, read-only results, clean failures."""

import os
import stat
import threading

import pytest

from fermi_jupyter.registry.storage import (
    Cancelled,
    Reader,
    StorageError,
    iter_manifest,
    read_manifest,
    remove_version,
    restore,
    scan,
    snapshot,
    verify,
)

from ..support.storage import leftovers, settled
from ..support.trees import change_some, content_map, independent_digest, make_tree


def test_snapshot_round_trip(layout, volume):
    src = volume / "d"
    make_tree(src, 50, 1000)
    (src / "odd\tname\nwith 中文.txt").write_text("odd")
    (src / "empty-dir").mkdir()
    os.chmod(src / "part-000" / "sample-000000.bin", 0o750)
    mtimes = {p: p.stat().st_mtime_ns for p in src.rglob("*")}
    r = snapshot(layout, src, "ds-a", 1)
    assert (r.digest, r.files, r.bytes) == independent_digest(src)
    assert r.new_bytes == r.bytes
    tree = layout.version_dir("ds-a", 1)
    assert content_map(tree) == content_map(src)
    assert (tree / "empty-dir").is_dir()
    modes = {e.path: e.mode for e in iter_manifest(r.manifest_path)}
    assert modes["part-000/sample-000000.bin"] == 0o750
    assert "odd\tname\nwith 中文.txt" in modes
    for p in tree.rglob("*"):
        m = stat.S_IMODE(p.stat().st_mode)
        assert m == (0o555 if p.is_dir() else 0o444), p
    assert {p: p.stat().st_mtime_ns for p in src.rglob("*")} == mtimes
    assert not layout.partial_dir("ds-a", 1).exists()
    assert leftovers(settled(layout)) == []


@pytest.mark.parametrize(
    "size,object_min", [(80 << 10, None), (4096, 0)], ids=["objects", "object_min=0"]
)
def test_dedup_across_versions_and_datasets(layout, volume, size, object_min):
    """Files of at least ``object_min`` bytes (64 KiB by default) are objects: stored once
    for every version of every dataset."""
    src = volume / "d"
    total = make_tree(src, 60, size, seed=3)
    v1 = snapshot(layout, src, "ds-a", 1, object_min=object_min)
    changed = change_some(src, 0.05)
    v2 = snapshot(layout, src, "ds-a", 2, previous_manifest=v1.manifest_path, object_min=object_min)
    assert v2.new_bytes == sum(p.stat().st_size for p in changed) <= 0.06 * total
    other = snapshot(layout, src, "ds-b", 1, object_min=object_min)  # another dataset
    assert other.new_bytes == 0 and other.digest == v2.digest  # nothing new
    assert len(_objects(layout)) == 60 + len(changed)
    _assert_unchanged_files_shared(layout, src, changed)


def test_small_files_are_linked_to_the_previous_version(layout, volume):
    """Under 64 KiB a file is not an object (no second directory entry): an unchanged one is
    linked to the same file of the version before, as ``rsync --link-dest`` does, and so is
    one whose content is the same but whose mtime is not."""
    src = volume / "d"
    total = make_tree(src, 200, 4096, seed=3)
    v1 = snapshot(layout, src, "ds-a", 1)
    assert v1.new_bytes == total and _objects(layout) == set()
    changed = change_some(src, 0.01)
    touched = src / "part-007" / "sample-000007.bin"
    assert touched not in changed
    os.utime(touched, ns=(1, 1))  # touched, not changed: read again, and linked
    v2 = snapshot(layout, src, "ds-a", 2, previous_manifest=v1.manifest_path)
    assert v2.new_bytes == sum(p.stat().st_size for p in changed) <= 0.02 * total
    _assert_unchanged_files_shared(layout, src, changed)
    t1, t2 = (layout.version_dir("ds-a", n) / "part-007" / "sample-000007.bin" for n in (1, 2))
    assert t1.stat().st_ino == t2.stat().st_ino  # one inode: its mtime is v1's (as objects')
    mtimes = {e.path: e.mtime_ns for e in iter_manifest(v2.manifest_path)}
    assert mtimes["part-007/sample-000007.bin"] == 1  # the manifest (and restore) say the new
    assert _objects(layout) == set()
    other = snapshot(layout, src, "ds-b", 1)  # another dataset holds its own small files
    assert other.new_bytes == total and other.digest == v2.digest
    # the version linked to goes: the newer one keeps every file, complete and correct
    remove_version(layout, "ds-a", 1)
    tree2 = layout.version_dir("ds-a", 2)
    assert verify(tree2, v2.manifest_path, compare_modes=False).ok
    assert content_map(tree2) == content_map(src)
    remove_version(layout, "ds-a", 2)
    remove_version(layout, "ds-b", 1)
    assert leftovers(settled(layout)) == []


def test_a_previous_version_that_goes_meanwhile_costs_nothing(layout, volume):
    """The quick check links the previous version's files; deleted before the next snapshot
    opens it, its files are read again (the stored objects, if any, are linked)."""
    src = volume / "d"
    make_tree(src, 30, 4096, seed=4)
    (src / "big.bin").write_bytes(os.urandom(100 << 10))
    v1 = snapshot(layout, src, "ds-a", 1)
    manifest = layout.manifest_path("ds-a", 1)
    kept = manifest.read_bytes()
    remove_version(layout, "ds-a", 1)
    manifest.write_bytes(kept)  # a manifest left, its version gone
    v2 = snapshot(layout, src, "ds-a", 2, previous_manifest=manifest)
    assert (v2.digest, v2.files, v2.bytes) == (v1.digest, v1.files, v1.bytes)
    assert v2.new_bytes == v1.new_bytes
    assert content_map(layout.version_dir("ds-a", 2)) == content_map(src)


def _objects(layout) -> set:
    return {p for p in layout.objects_dir.rglob("*") if p.is_file()}


def _assert_unchanged_files_shared(layout, src, changed) -> None:
    """Every unchanged file of ds-a@2 is ds-a@1's inode; every changed one is not."""
    shared = 0
    for p in src.rglob("*.bin"):
        rel = p.relative_to(src)
        a = layout.version_dir("ds-a", 1) / rel
        b = layout.version_dir("ds-a", 2) / rel
        same = a.stat().st_ino == b.stat().st_ino
        assert same == (p not in changed), rel
        shared += same
    assert shared == sum(1 for _ in src.rglob("*.bin")) - len(changed)


def test_quick_check_trusts_size_and_mtime_like_rsync(layout, volume):
    src = volume / "d"
    make_tree(src, 10, 100)
    v1 = snapshot(layout, src, "ds-a", 1)
    target = src / "part-000" / "sample-000000.bin"
    st = target.stat()
    target.write_bytes(b"y" * st.st_size)  # same size...
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # ...and same mtime
    v2 = snapshot(layout, src, "ds-a", 2, previous_manifest=v1.manifest_path)
    assert v2.digest == v1.digest  # not re-read: the documented trade-off
    v3 = snapshot(layout, src, "ds-a", 3)  # without a previous manifest, it is read
    assert v3.digest != v1.digest


def test_symlinks_and_specials_are_skipped_with_a_warning(layout, volume):
    src = volume / "d"
    make_tree(src, 3, 10)
    os.symlink("/etc/passwd", src / "passwd")
    os.mkfifo(src / "pipe")
    r = snapshot(layout, src, "ds-a", 1)
    assert r.files == 3
    assert any("symlink: passwd" in w for w in r.warnings)
    assert any("fifo: pipe" in w for w in r.warnings)
    assert not (layout.version_dir("ds-a", 1) / "passwd").exists()


def test_cancel_removes_partial_data(layout, volume):
    src = volume / "d"
    make_tree(src, 3000, 2000)
    cancel = threading.Event()

    def progress(p):
        if p.files_done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        snapshot(layout, src, "ds-a", 1, progress=progress, cancel=cancel)
    assert not layout.partial_dir("ds-a", 1).exists()
    assert not layout.version_dir("ds-a", 1).exists()
    assert not layout.manifest_path("ds-a", 1).exists()
    assert leftovers(settled(layout)) == []


def test_an_unreadable_file_fails_cleanly(layout, volume):
    # read as the volume's owner (uid 12345), a root-only file is unreadable: the snapshot
    # fails with a readable error and leaves nothing behind
    src = volume / "d"
    make_tree(src, 20, 100)
    os.chown(volume, 12345, 12345)
    secret = src / "part-003" / "sample-000003.bin"
    os.chmod(secret, 0o600)
    with pytest.raises(StorageError) as e:
        snapshot(layout, src, "ds-a", 1, read_as=Reader.of(volume))
    assert e.value.reason == "io-error" and "Permission denied" in str(e.value)
    assert "part-003/sample-000003.bin" in str(e.value)
    assert str(src) not in str(e.value)  # paths relative to the source, not the server's
    assert not layout.partial_dir("ds-a", 1).exists()
    assert not layout.manifest_path("ds-a", 1).exists()
    assert leftovers(settled(layout)) == []


def test_existing_version_is_not_overwritten(layout, volume):
    src = volume / "d"
    make_tree(src, 2, 10)
    snapshot(layout, src, "ds-a", 1)
    with pytest.raises(StorageError) as e:
        snapshot(layout, src, "ds-a", 1)
    assert e.value.reason == "exists"


def test_progress_reports_totals(layout, volume):
    src = volume / "d"
    make_tree(src, 30, 100)
    seen = []
    snapshot(layout, src, "ds-a", 1, progress=seen.append)
    assert seen[0].files_done == 0 and seen[0].files_total is None  # no counting pre-walk
    last = seen[-1]
    assert (last.files_done, last.bytes_done, last.files_total, last.bytes_total) == (
        30,
        3000,
        30,
        3000,
    )


def test_scan_verify_drift(layout, volume):
    src = volume / "d"
    make_tree(src, 10, 100)
    out = layout.manifest_path("ds-r", 1)
    r = scan(src, out)
    assert (r.digest, r.files, r.bytes) == independent_digest(src) and r.new_bytes == 0
    assert verify(src, out).ok
    (src / "part-001" / "sample-000001.bin").write_bytes(b"changed")
    (src / "part-002" / "sample-000002.bin").unlink()
    (src / "new.txt").write_text("n")
    os.chmod(src / "part-003" / "sample-000003.bin", 0o600)
    rep = verify(src, out)
    assert not rep.ok
    assert rep.changed == ["part-001/sample-000001.bin", "part-003/sample-000003.bin"]
    assert rep.removed == ["part-002/sample-000002.bin"] and rep.added == ["new.txt"]
    assert rep.digest == independent_digest(src)[0] != rep.expected_digest


def test_verify_a_snapshot_ignores_its_read_only_modes(layout, volume):
    src = volume / "d"
    make_tree(src, 10, 100)
    r = snapshot(layout, src, "ds-a", 1)
    rep = verify(layout.version_dir("ds-a", 1), r.manifest_path, compare_modes=False)
    assert rep.ok and rep.digest == r.digest


def test_restore_and_remove(layout, volume):
    src = volume / "d"
    make_tree(src, 20, 300, seed=9)
    os.chmod(src / "part-000" / "sample-000000.bin", 0o700)
    r = snapshot(layout, src, "ds-a", 1, object_min=0)  # every file an object
    dest = volume / "restored"
    res = restore(layout.version_dir("ds-a", 1), r.manifest_path, dest)
    assert res.files == 20
    assert independent_digest(dest) == independent_digest(src)  # modes come back too
    (dest / "part-000" / "sample-000000.bin").write_bytes(b"writable")
    with pytest.raises(StorageError) as e:
        restore(layout.version_dir("ds-a", 1), r.manifest_path, dest)
    assert e.value.reason == "exists"
    r2 = snapshot(layout, src, "ds-b", 1, object_min=0)  # shares every object with ds-a@1
    assert remove_version(layout, "ds-a", 1) == 0  # nothing freed: ds-b still uses them
    assert remove_version(layout, "ds-b", 1) == r2.bytes
    assert not any(p.is_file() for p in layout.objects_dir.rglob("*"))


def test_manifest_pages(layout, volume):
    src = volume / "d"
    make_tree(src, 25, 10)
    r = snapshot(layout, src, "ds-a", 1)
    paths, cursor = [], None
    while True:
        page, cursor = read_manifest(r.manifest_path, after=cursor, limit=7)
        paths += [e.path for e in page]
        if not cursor:
            break
    assert paths == [e.path for e in iter_manifest(r.manifest_path)] and len(paths) == 25
