"""Removing versions and leftovers, and freeing objects nothing links to any more.

An object is in use while some version tree links it: its link count is then at least 2 (the
``objects/`` name plus one per use). An object with one link is garbage."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from pathlib import Path

from .errors import StorageError
from .layout import StorageLayout
from .manifest import iter_manifest, tmp_path_of


def _make_writable(path: str) -> None:
    os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | stat.S_IRWXU)


def rmtree_force(path: Path | str) -> None:
    """Remove a tree even where it was made read-only (0555 folders); idempotent."""
    path = str(path)
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return

    def retry(func, p, exc_info) -> None:  # type: ignore[no-untyped-def]
        # a read-only folder refuses unlinking its entries (for non-root processes): open
        # it up and try once more; anything else is a real error
        if isinstance(exc_info[1], FileNotFoundError):
            return
        parent = os.path.dirname(p)
        _make_writable(parent)
        if func is os.rmdir or func is os.scandir or func is os.open:
            _make_writable(p)
        func(p)

    # folders first, top-down, so rmtree can list and empty them
    for dirpath, dirnames, _files in os.walk(path):
        _make_writable(dirpath)
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                _make_writable(full)
    shutil.rmtree(path, onerror=retry)


def free_unused(layout: StorageLayout, manifest: Path, *, partial_ok: bool = False) -> int:
    """Unlink the objects ``manifest`` names that no version links any more; bytes freed.

    A digest listed twice is looked at twice; the second time the object is already gone."""
    freed = 0
    for e in iter_manifest(manifest, partial_ok=partial_ok):
        obj = layout.object_path(e.digest)
        try:
            st = os.lstat(obj)
            if st.st_nlink == 1:  # only the store's own name is left
                os.unlink(obj)
                freed += st.st_size
        except FileNotFoundError:
            continue
    return freed


def cleanup_partial(layout: StorageLayout, ds_id: str, n: int) -> None:
    """Idempotent: remove a half-built snapshot and its temp manifest (after a failure, a
    cancel or a crash), and the objects only it had stored, as far as its temp manifest knows
    them (the rest, if any, go with :func:`sweep_objects`)."""
    partial = layout.partial_dir(ds_id, n)
    tmp_manifest = tmp_path_of(layout.manifest_path(ds_id, n))
    rmtree_force(partial)
    if tmp_manifest.exists():
        with contextlib.suppress(StorageError):  # unreadable: the sweep finds its objects
            free_unused(layout, tmp_manifest, partial_ok=True)
        tmp_manifest.unlink(missing_ok=True)


def remove_version(layout: StorageLayout, ds_id: str, n: int) -> int:
    """Delete a snapshot version and its manifest, and free the objects only it used.
    Returns the bytes freed. Safe to repeat after a crash half-way (the manifest goes last)."""
    manifest = layout.manifest_path(ds_id, n)
    rmtree_force(layout.version_dir(ds_id, n))
    freed = free_unused(layout, manifest) if manifest.exists() else 0
    manifest.unlink(missing_ok=True)
    tmp_path_of(manifest).unlink(missing_ok=True)
    return freed


def sweep_objects(layout: StorageLayout, *, min_age: float = 3600.0) -> tuple[int, int]:
    """Free every object no version links (left by crashes), older than ``min_age`` seconds
    so that a snapshot running right now keeps the objects it just stored. Returns
    (objects freed, bytes freed)."""
    cutoff = time.time() - min_age
    count = freed = 0
    if not layout.objects_dir.is_dir():
        return 0, 0
    with os.scandir(layout.objects_dir) as fanout:
        for sub in fanout:
            if not sub.is_dir(follow_symlinks=False):
                continue
            with os.scandir(sub.path) as it:
                for e in it:
                    try:
                        st = e.stat(follow_symlinks=False)
                        if st.st_nlink == 1 and st.st_ctime < cutoff:
                            os.unlink(e.path)
                            count += 1
                            freed += st.st_size
                    except FileNotFoundError:
                        continue
    return count, freed


def seal(root: Path | str, dirs: list[str]) -> None:
    """Make a finished snapshot's folders read-only (its files already are)."""
    root = str(root)
    for d in dirs:
        os.chmod(f"{root}/{d}", 0o555)
    os.chmod(root, 0o555)
