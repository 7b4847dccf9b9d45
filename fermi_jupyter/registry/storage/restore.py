"""Copy a version back into a volume as ordinary, writable files.

The destination is a user's volume — hostile ground like any source: its path is opened
component by component without following symlinks (missing folders are made), every file
and folder is created relative to a folder descriptor with ``O_EXCL | O_NOFOLLOW`` (nothing
is ever written through a symlink planted in the target), and all of it happens with the
volume owner's credentials where they are known, so the files are the owner's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from pathlib import Path

from . import hooks
from .creds import Reader, Switch, open_as
from .engine import Plan, run
from .errors import StorageError, readable
from .fsafe import DIR_FLAGS, open_tree, rename_noreplace
from .manifest import ManifestCursor, VersionDigest
from .pool import Batch
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import Folder, Skipped


def _exists(name: str) -> StorageError:
    return StorageError(f"{name!r} already exists and is not empty", "exists")


def restore(
    version_tree: Path,
    manifest_path: Path,
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    read_as: Reader | None = None,
    workers: int | None = None,
) -> Result:
    """Copy the version at ``version_tree`` to ``dest`` (a resolved path in a volume, from
    :func:`confine`) as plain files, with the modes (set-id bits dropped) and mtimes of its
    manifest, every file checked against its digest on the way. ``read_as``: the volume
    owner, who will own the files.

    ``dest`` must not exist or be an empty folder (else reason "exists"). The copy is built
    in a sibling ``.<name>.fermi-partial`` and renamed into place: all of it or nothing."""
    dest = Path(dest)
    name = dest.name
    partial = f".{name}.fermi-partial"
    tracker = Tracker(progress, cancel)
    tracker.report()
    switch = Switch(read_as)
    version = VersionDigest()
    files = nbytes = 0
    fds: list[int] = []
    made = False
    parent_fd = -1

    def on_folder(folder: Folder, parent: Folder | None) -> None:
        if parent is None:
            folder.dst = os.dup(fds[-1])
            return
        sub = folder.rel.rpartition("/")[2]
        with switch.as_reader():
            os.mkdir(sub, 0o755, dir_fd=parent.dst)
            folder.dst = os.open(sub, DIR_FLAGS, dir_fd=parent.dst)

    def deliver(batch: Batch, result: dict) -> None:
        nonlocal files, nbytes
        version.update(result["digest"])
        files += result["files"]
        nbytes += result["bytes"]
        tracker.add(result["files"], result["bytes"])

    try:
        switch.enter()
        parent_fd = open_as(dest.parent, switch, make=True)
        fds.append(parent_fd)
        with switch.as_reader():
            empty_target = _check_target(parent_fd, name)
            remove_at(parent_fd, partial)  # left by an earlier attempt
            os.mkdir(partial, 0o755, dir_fd=parent_fd)
            made = True
            fds.append(os.open(partial, DIR_FLAGS, dir_fd=parent_fd))
        tree_fd = open_tree(version_tree)
        fds.insert(0, tree_fd)
        hooks.pause("restore-ready", dest=str(dest))
        run(
            Plan(
                op="restore",
                root_fd=tree_fd,
                switch=switch,
                tracker=tracker,
                deliver=deliver,
                skipped=Skipped(),
                cursor=ManifestCursor(manifest_path),
                markers=True,
                config={"hooks": hooks.DIR},
                on_folder=on_folder,
                workers=workers,
            )
        )
        tracker.check()
        with switch.as_reader():
            if empty_target:
                os.rmdir(name, dir_fd=parent_fd)  # the empty folder the copy replaces
            try:
                rename_noreplace(parent_fd, partial, name)
            except FileExistsError:
                raise _exists(name) from None
    except BaseException as e:
        if made:
            with switch.as_reader(), contextlib.suppress(OSError):
                remove_at(parent_fd, partial)
        if isinstance(e, OSError):
            raise readable(e, str(dest.parent)) from e
        raise
    finally:
        for fd in fds:
            os.close(fd)
        switch.leave()
    tracker.set_totals(files, nbytes)
    return Result(
        digest=version.hexdigest(),
        files=files,
        bytes=nbytes,
        new_bytes=nbytes,
        warnings=[],
        manifest_path=Path(manifest_path),
    )


def _check_target(parent_fd: int, name: str) -> bool:
    """True if ``name`` is an empty folder to replace, False if absent; "exists" otherwise
    (a symlink counts as existing: it is never followed, never replaced)."""
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise _exists(name)
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _exists(name) from None
        raise
    try:
        with os.scandir(fd) as it:
            if next(it, None) is not None:
                raise _exists(name)
    finally:
        os.close(fd)
    return True


def remove_at(dir_fd: int, name: str) -> None:
    """Remove the tree ``name`` below ``dir_fd`` (if any) without following symlinks."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    for _path, dirs, names, fd in os.fwalk(name, topdown=False, dir_fd=dir_fd):
        for n in names:
            os.unlink(n, dir_fd=fd)
        for d in dirs:
            try:
                os.rmdir(d, dir_fd=fd)
            except NotADirectoryError:
                os.unlink(d, dir_fd=fd)
    os.rmdir(name, dir_fd=dir_fd)
