"""The content-addressed object store: each distinct file content is stored once, read-only."""

from __future__ import annotations

import os
import uuid

from blake3 import blake3

from .hashing import SMALL, copy_and_hash, open_source, read_small
from .layout import StorageLayout

OBJECT_MODE = 0o444


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
            tmp = str(layout.tmp_dir / f"{tmp_prefix}{uuid.uuid4().hex}")
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view) :]
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
