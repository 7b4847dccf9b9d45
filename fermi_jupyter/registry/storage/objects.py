"""The content-addressed object store: each distinct file content is stored once, read-only."""

from __future__ import annotations

import os
import uuid

from blake3 import blake3

from .hashing import SMALL, copy_and_hash, open_source, read_small
from .layout import StorageLayout

OBJECT_MODE = 0o444


_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_ROOT_FD: int | None = None


def _root_fd() -> int:
    global _ROOT_FD
    if _ROOT_FD is None:
        _ROOT_FD = os.open("/", os.O_RDONLY)
    return _ROOT_FD


def _open_anonymous(layout: StorageLayout) -> int | None:
    """An unnamed file in tmp/ (O_TMPFILE): nothing to clean up if we die mid-write, and one
    link(2) publishes it. None where the filesystem cannot do that."""
    if not _O_TMPFILE:
        return None
    try:
        return os.open(layout.tmp_dir, os.O_WRONLY | _O_TMPFILE, OBJECT_MODE)
    except OSError:
        return None


def _publish_fd(layout: StorageLayout, fd: int, digest: str) -> bool:
    obj = layout.object_path(digest)
    try:
        # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N gives the unnamed file its name
        os.link(f"/proc/self/fd/{fd}", obj, src_dir_fd=_root_fd(), follow_symlinks=True)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        obj.parent.mkdir(parents=True, exist_ok=True)
        return _publish_fd(layout, fd, digest)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _publish(layout: StorageLayout, tmp: str, digest: str) -> bool:
    """Link a finished temp file in as an object; False if that content was already stored."""
    obj = layout.object_path(digest)
    try:
        os.link(tmp, obj)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:  # the fan-out folder is missing (a store made by hand)
        obj.parent.mkdir(parents=True, exist_ok=True)
        return _publish(layout, tmp, digest)
    finally:
        os.unlink(tmp)


def store_file(
    layout: StorageLayout, path: str, size: int, tmp_prefix: str
) -> tuple[str, int, int]:
    """Store the file at ``path``: (digest, bytes newly stored, bytes read)."""
    fd = open_source(path)
    try:
        if size <= SMALL:
            data = read_small(fd, size)
            digest = blake3(data).hexdigest()
            if os.path.exists(layout.object_path(digest)):
                return digest, 0, len(data)  # de-duplicated without writing anything
            anon = _open_anonymous(layout)
            if anon is not None:
                try:
                    _write_all(anon, data)
                    return digest, len(data) if _publish_fd(layout, anon, digest) else 0, len(data)
                finally:
                    os.close(anon)
            tmp = str(layout.tmp_dir / f"{tmp_prefix}{uuid.uuid4().hex}")
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            try:
                _write_all(out, data)
            finally:
                os.close(out)
            return digest, len(data) if _publish(layout, tmp, digest) else 0, len(data)
        tmp = str(layout.tmp_dir / f"{tmp_prefix}{uuid.uuid4().hex}")
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
        try:
            digest, nread = copy_and_hash(fd, out)
        except BaseException:
            os.close(out)
            os.unlink(tmp)
            raise
        os.close(out)
        return digest, nread if _publish(layout, tmp, digest) else 0, nread
    finally:
        os.close(fd)


def ensure_fanout(layout: StorageLayout) -> None:
    for i in range(256):
        (layout.objects_dir / f"{i:02x}").mkdir(parents=True, exist_ok=True)
