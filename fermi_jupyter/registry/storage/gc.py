"""Removing versions and leftovers, and freeing objects nothing links to any more."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from .layout import StorageLayout
from .manifest import iter_manifest


def rmtree_force(path: Path) -> None:
    """Remove a tree even where it was made read-only (0555 folders)."""
    if not os.path.lexists(path):
        return

    def fix(func, p, _exc):  # type: ignore[no-untyped-def]
        parent = os.path.dirname(p)
        os.chmod(parent, stat.S_IMODE(os.lstat(parent).st_mode) | stat.S_IWUSR | stat.S_IXUSR)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o755)
        func(p)

    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    for dirpath, dirnames, _files in os.walk(path):
        os.chmod(dirpath, 0o755)
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                os.chmod(full, 0o755)
    shutil.rmtree(path, onerror=fix)


def seal(tree: Path) -> None:
    """Make every folder of a finished snapshot read-only (files are already 0444)."""
    for dirpath, _dirs, _files in os.walk(tree, topdown=False):
        os.chmod(dirpath, 0o555)


def cleanup_partial(layout: StorageLayout, ds_id: str, n: int) -> None:
    """Idempotent: remove a half-built snapshot, a temp manifest and temp objects of (ds, n)."""
    rmtree_force(layout.partial_dir(ds_id, n))
    tmp_manifest = layout.manifest_path(ds_id, n).with_suffix(".tsv.tmp")
    tmp_manifest.unlink(missing_ok=True)
    prefix = f"{ds_id}-{n}-"
    if layout.tmp_dir.is_dir():
        for entry in os.scandir(layout.tmp_dir):
            if entry.name.startswith(prefix):
                os.unlink(entry.path)


def remove_version(layout: StorageLayout, ds_id: str, n: int) -> int:
    """Delete a snapshot version and its manifest, and free the objects only it used.
    Returns the bytes freed."""
    manifest = layout.manifest_path(ds_id, n)
    rmtree_force(layout.version_dir(ds_id, n))
    freed = 0
    if manifest.exists():
        seen: set[str] = set()
        for e in iter_manifest(manifest):
            if e.digest in seen:
                continue
            seen.add(e.digest)
            obj = layout.object_path(e.digest)
            try:
                st = os.lstat(obj)
            except FileNotFoundError:
                continue
            if st.st_nlink == 1:  # only the store itself still links it
                os.unlink(obj)
                freed += st.st_size
        manifest.unlink()
    return freed
