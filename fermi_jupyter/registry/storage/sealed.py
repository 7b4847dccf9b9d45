"""Is a snapshot version already complete on disk? For a job resumed after the registry died
between renaming a version into place and recording it as ready.

A snapshot is renamed from ``.N.partial`` to ``N`` as its very last step, after its manifest
is committed and its folders are sealed, so a folder ``N`` should always be whole. This module
checks that rather than trusting it: every file the manifest names is there with its size and
is the stored object with its digest (the same inode; a file that is not — an object replica,
say — is read and hashed), nothing else is there, and no folder is writable. Read-only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from blake3 import blake3

from .errors import StorageError
from .gc import rmtree_force
from .layout import StorageLayout
from .manifest import iter_manifest, version_digest
from .results import Result

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class Unfinished(StorageError):
    """A version folder exists but is not the complete, sealed version its manifest says."""

    reason = "unfinished"


def finished_snapshot(layout: StorageLayout, ds_id: str, n: int) -> Result | None:
    """The result of the snapshot that built version ``n`` if it is complete on disk; None if
    there is no version folder. Raises :class:`Unfinished` if there is one that does not match
    its manifest. ``new_bytes`` is 0 (what that run stored is not known any more)."""
    final = layout.version_dir(ds_id, n)
    try:
        root = os.open(final, _DIR)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise Unfinished(f"version folder {n} cannot be opened: {e.strerror}") from None
    on_disk = _files(root)  # a generator: nothing runs until the first next()
    try:
        manifest = layout.manifest_path(ds_id, n)
        if not manifest.exists():
            raise Unfinished(f"version folder {n} has no manifest")
        files = nbytes = 0
        for e in iter_manifest(manifest):
            got = next(on_disk, None)
            if got is None or got[0] != e.path:
                raise Unfinished(f"{e.path!r} is missing or out of place in version {n}")
            _rel, dir_fd, name, st = got
            if st.st_size != e.size:
                raise Unfinished(f"{e.path!r} has {st.st_size} bytes, its manifest {e.size}")
            if not _is_object(layout, e.digest, st) and _hash(dir_fd, name) != e.digest:
                raise Unfinished(f"{e.path!r} does not match its manifest digest")
            files, nbytes = files + 1, nbytes + e.size
        extra = next(on_disk, None)
        if extra is not None:
            raise Unfinished(f"{extra[0]!r} in version {n} is not in its manifest")
    finally:
        on_disk.close()  # closes the folder descriptors of a walk left half-way
        os.close(root)
    return Result(
        digest=version_digest(iter_manifest(manifest)),
        files=files,
        bytes=nbytes,
        new_bytes=0,
        manifest_path=manifest,
    )


def discard(layout: StorageLayout, ds_id: str, n: int) -> None:
    """Remove a version folder that :func:`finished_snapshot` found unfinished, and its
    manifest: the job builds it again."""
    rmtree_force(layout.version_dir(ds_id, n))
    layout.manifest_path(ds_id, n).unlink(missing_ok=True)


def _files(root: int) -> Iterator[tuple[str, int, str, os.stat_result]]:
    """(relative path, folder fd, name, stat) of every file in tree order — each folder's
    names sorted, sub-folders expanded in place, as manifests are. Raises Unfinished on a
    writable folder or anything that is neither a folder nor a regular file."""
    stack: list[tuple[int, str, Iterator[str]]] = []

    def enter(fd: int, rel: str) -> None:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o222:
            raise Unfinished(f"folder {rel or '.'} is not sealed")
        stack.append((fd, rel, iter(sorted(os.listdir(fd)))))

    enter(os.dup(root), "")
    try:
        while stack:
            fd, rel, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(fd)
                stack.pop()
                continue
            path = f"{rel}/{name}" if rel else name
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                enter(os.open(name, _DIR, dir_fd=fd), path)
            elif stat.S_ISREG(st.st_mode):
                yield path, fd, name, st
            else:
                raise Unfinished(f"{path!r} is not a regular file")
    finally:
        for fd, _rel, _names in stack:
            os.close(fd)


def _is_object(layout: StorageLayout, digest: str, st: os.stat_result) -> bool:
    try:
        obj = os.lstat(layout.object_path(digest))
    except (FileNotFoundError, StorageError):
        return False
    return (obj.st_ino, obj.st_dev) == (st.st_ino, st.st_dev)


def _hash(dir_fd: int, name: str) -> str:
    fd = os.open(name, _FILE, dir_fd=dir_fd)
    try:
        h = blake3()
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)
