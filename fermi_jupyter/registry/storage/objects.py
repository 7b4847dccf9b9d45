"""The content-addressed object store: each distinct content once, read-only, shared by every
version of every dataset through hard links.

A new object is written straight into the version being built (``partial/<path>``) and then
hard-linked to ``objects/<d[:2]>/<digest>``: the object's name appears only once its content
is complete, so a crash never leaves a truncated object behind a valid name; a crash leaves
at most a file in the partial tree (removed by ``cleanup_partial``) or an object nothing
links to (freed by ``sweep_objects``). One inode, two names, no temp-file rename."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from blake3 import blake3

from .hashing import buffer, new_hasher, open_source, stream, write_all

OBJECT_MODE = 0o444
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


@dataclass(frozen=True)
class Store:
    """Where one snapshot reads from and writes to (strings: this is the per-file hot path)."""

    objects: str  # <root>/objects
    src: str  # the source tree
    dst: str  # the partial version tree

    def object_path(self, digest: str) -> str:
        return f"{self.objects}/{digest[:2]}/{digest}"


def link_object(store: Store, digest: str, rel: str) -> bool:
    """Give the version the stored object ``digest`` at ``rel``; False if there is no such
    object (any more)."""
    try:
        os.link(store.object_path(digest), f"{store.dst}/{rel}")
        return True
    except FileNotFoundError:
        return False


def _create(path: str) -> int:
    fd = os.open(path, _CREATE, OBJECT_MODE)
    os.fchmod(fd, OBJECT_MODE)  # whatever the process umask is
    return fd


def _publish(store: Store, digest: str, rel: str) -> bool:
    """Name the freshly written ``dst/rel`` as object ``digest``. False if another writer
    stored that content first: then the version links the stored object instead, so both
    share one inode and ours is dropped."""
    obj = store.object_path(digest)
    path = f"{store.dst}/{rel}"
    try:
        os.link(path, obj)
        return True
    except FileExistsError:
        os.unlink(path)
        os.link(obj, path)
        return False
    except FileNotFoundError:  # fan-out folder missing (a store made by hand)
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        return _publish(store, digest, rel)


def store_file(
    store: Store,
    rel: str,
    size: int,
    ino: int | None,
    mtime_ns: int,
    cancel: threading.Event | None = None,
) -> tuple[str, int, int]:
    """Copy ``src/rel`` into the version and the store, reading it once.
    Returns (digest, bytes newly stored, bytes read)."""
    fd = open_source(f"{store.src}/{rel}", rel, ino)
    try:
        view = buffer()
        n = os.readv(fd, [view])
        if n < len(view):
            # the whole file is in memory: hash first, write only if the content is new
            data = view[:n]
            digest = blake3(data).hexdigest()
            if link_object(store, digest, rel):
                return digest, 0, n
            out = _create(f"{store.dst}/{rel}")
            try:
                write_all(out, data)
                os.utime(out, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(out)
        else:
            # big file: copy and hash in one pass, then learn whether it was new
            out = _create(f"{store.dst}/{rel}")
            try:
                h = new_hasher(size)
                n = stream(fd, h, out, view[:n], cancel)
                os.utime(out, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(out)
            digest = h.hexdigest()
    finally:
        os.close(fd)
    return digest, (n if _publish(store, digest, rel) else 0), n


def ensure_fanout(objects_dir: str) -> None:
    """Create the 256 ``objects/xx`` folders (``ff``, made last, says they all exist)."""
    if os.path.isdir(os.path.join(objects_dir, "ff")):
        return
    for i in range(256):
        os.makedirs(os.path.join(objects_dir, f"{i:02x}"), exist_ok=True)
