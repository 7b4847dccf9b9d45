"""Snapshot versions: copy a source tree into the object store, reading each new file once.

1. open the source root once (``open_tree``: no symlink anywhere on the checked path), walk it
   in the registry (names only), and hand the files to worker processes in batches with the
   descriptors of their folders;
2. a file with the path, size and mtime it had in the previous version (the previous
   manifest is read alongside the walk) is linked to that version's file, unread (rsync's
   quick check), or to the object it had; every other file is opened without following
   symlinks, checked (a regular file on the source's device), read once, hashed, and linked
   to the stored object with that content or stored as a new one — a small one stays the
   version's own, unless the previous version has that very content at that path
   (objects.py);
3. flush the filesystem (flushed every 0.2 s during step 2 already: flushing.py), write the
   manifest, rename ``.N.partial`` to ``N``. Folders are sealed read-only as they are
   finished.

Any failure or cancel gives back what was built and the objects only it stored (gc.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from . import hooks, objects
from .creds import Reader, Switch, open_as
from .engine import Plan, run
from .errors import Cancelled, StorageError, readable
from .flushing import flushing
from .fsafe import DIR_FLAGS, syncfs
from .gc import cleanup_partial, seal
from .layout import StorageLayout
from .manifest import ManifestCursor, ManifestWriter
from .pool import Batch
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import Folder, Skipped

# tests only: behave as if the filesystem's hard-link limit were this low
LINK_LIMIT = int(os.environ.get("FERMI_STORAGE_TEST_LINK_LIMIT", "0")) or None


def _previous(path: Path | None) -> ManifestCursor | None:
    if path is None or not Path(path).exists():
        return None
    try:
        return ManifestCursor(path)
    except StorageError:  # an unreadable previous manifest: read every file instead
        return None


def snapshot(
    layout: StorageLayout,
    src: Path,
    ds_id: str,
    n: int,
    *,
    previous_manifest: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    read_as: Reader | None = None,
    workers: int | None = None,
    keep_objects: bool = False,
    object_min: int | None = None,
) -> Result:
    """Copy ``src`` (a resolved path, from :func:`confine`) into version ``n`` of ``ds_id``;
    see the module docstring. ``read_as``: whose permissions apply to reading the source
    (the volume owner's). The source is only ever opened read-only. Raises StorageError
    (reason "exists" if the version is on disk already), Cancelled, or a readable
    StorageError for OS errors. ``keep_objects`` (a job, which may be resumed): what an
    interrupted or failed attempt stored stays, listed in its journal, for the next attempt;
    the job frees it with :func:`cleanup_partial` if it ends without a version.
    ``object_min``: content under this many bytes is not named in the object store
    (default ``objects.OBJECT_MIN``)."""
    layout.ensure()
    final = layout.version_dir(ds_id, n)
    if final.exists():
        raise StorageError(f"version {n} of {ds_id} already exists on disk", "exists")
    cleanup_partial(layout, ds_id, n, keep_objects=keep_objects)
    tracker = Tracker(progress, cancel)
    tracker.report()
    skipped = Skipped()
    switch = Switch(read_as)
    fds: list[int] = []
    writer: ManifestWriter | None = None
    new_bytes = 0
    partial = layout.partial_dir(ds_id, n)
    try:
        switch.enter()
        hooks.pause("source-checked", path=str(src))
        root_fd = open_as(src, switch)
        fds.append(root_fd)
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.mkdir(mode=0o755)
        partial_fd = os.open(partial, DIR_FLAGS)
        fds.append(partial_fd)
        objects_fd = os.open(layout.objects_dir, DIR_FLAGS)
        fds.append(objects_fd)
        journal_fd = os.open(
            layout.journal_path(ds_id, n),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
            0o600,
        )
        fds.append(journal_fd)
        writer = ManifestWriter(layout.manifest_path(ds_id, n))
        cursor = _previous(previous_manifest)
        init_fds = [objects_fd, journal_fd]
        before = layout.version_of_manifest(previous_manifest) if cursor else None
        if before is not None:
            try:
                init_fds.append(os.open(before, DIR_FLAGS))
                fds.append(init_fds[-1])
            except OSError:  # deleted meanwhile: its objects are linked instead
                pass

        def on_folder(folder: Folder, parent: Folder | None) -> None:
            if parent is None:
                folder.dst = os.dup(partial_fd)
                return
            name = folder.rel.rpartition("/")[2]
            os.mkdir(name, 0o755, dir_fd=parent.dst)
            folder.dst = os.open(name, DIR_FLAGS, dir_fd=parent.dst)

        def on_release(folder: Folder) -> None:
            seal(folder.dst)

        def deliver(batch: Batch, result: dict) -> None:
            nonlocal new_bytes
            writer.add_chunk(result["manifest"], result["digest"], result["files"], result["bytes"])  # type: ignore[union-attr]
            new_bytes += result["new"]
            tracker.add(result["files"], result["bytes"])

        with flushing(partial_fd):  # written to disk as it is copied
            run(
                Plan(
                    op="snapshot",
                    root_fd=root_fd,
                    switch=switch,
                    tracker=tracker,
                    deliver=deliver,
                    skipped=skipped,
                    cursor=cursor,
                    config={
                        "link_limit": LINK_LIMIT,
                        "hooks": hooks.DIR,
                        "object_min": objects.OBJECT_MIN if object_min is None else object_min,
                    },
                    init_fds=init_fds,
                    on_folder=on_folder,
                    on_release=on_release,
                    workers=workers,
                )
            )
        tracker.check()
        # the objects and the tree are on disk before the version exists
        tracker.wait_for(syncfs, partial_fd)
        tracker.wait_for(writer.commit)
        os.rename(partial, final)  # the version exists only once it is complete
        layout.journal_path(ds_id, n).unlink(missing_ok=True)  # its objects are all linked
    except BaseException as e:
        if writer is not None:
            writer.abort()
        _close(fds)
        fds = []
        cleanup_partial(layout, ds_id, n, keep_objects=keep_objects)
        if isinstance(e, OSError):
            raise readable(e, str(src)) from e
        raise
    finally:
        _close(fds)
        switch.leave()
    tracker.set_totals(writer.files, writer.bytes)
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        new_bytes=new_bytes,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


__all__ = ["Cancelled", "snapshot"]
