"""Reading files once: BLAKE3 while copying, or just BLAKE3."""

from __future__ import annotations

import os

from blake3 import blake3

SMALL = 1 << 20  # files up to this size are read in one call and held in memory
CHUNK = 1 << 20
_NOATIME = getattr(os, "O_NOATIME", 0)


def open_source(path: str) -> int:
    """Open read-only, without touching the source's access time when the OS allows it."""
    try:
        return os.open(path, os.O_RDONLY | _NOATIME)
    except PermissionError:  # O_NOATIME needs ownership; fall back to a plain read-only open
        return os.open(path, os.O_RDONLY)


def read_small(fd: int, size: int) -> bytes:
    data = os.read(fd, size + 1)
    while len(data) <= size:  # a short read; keep going until EOF
        more = os.read(fd, size + 1 - len(data))
        if not more:
            break
        data += more
    return data


def hash_file(path: str, size: int | None = None) -> tuple[str, int]:
    """(hex digest, bytes read)."""
    fd = open_source(path)
    try:
        if size is not None and size <= SMALL:
            data = read_small(fd, size)
            return blake3(data).hexdigest(), len(data)
        h, n = blake3(max_threads=blake3.AUTO if (size or 0) > 64 * CHUNK else 1), 0
        while chunk := os.read(fd, CHUNK):
            h.update(chunk)
            n += len(chunk)
        return h.hexdigest(), n
    finally:
        os.close(fd)


def copy_and_hash(src_fd: int, dst_fd: int) -> tuple[str, int]:
    """Stream ``src_fd`` into ``dst_fd`` hashing on the way: one read of the source."""
    h, n = blake3(), 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        got = os.readv(src_fd, [buf])
        if not got:
            break
        h.update(view[:got])
        written = 0
        while written < got:
            written += os.write(dst_fd, view[written:got])
        n += got
    return h.hexdigest(), n
