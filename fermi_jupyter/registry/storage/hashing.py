"""Reading source files once: opening them safely, BLAKE3 while copying, or just BLAKE3.

Every reader thread owns one reusable buffer, so reading a file allocates nothing; files that
fit in it (most) are read with one ``readv``. Reading stops at the first short read: for a
regular file that is its end, and a file still being appended to is captured as it was."""

from __future__ import annotations

import errno
import os
import stat
import threading

from blake3 import blake3

from .errors import Cancelled, Changed

BUF_SIZE = 4 << 20
BIG = 32 << 20  # files this large hash on several threads (blake3's own pool)
_NOATIME = getattr(os, "O_NOATIME", 0)
# O_NOFOLLOW: a file swapped for a symlink is not followed; O_NONBLOCK: a file swapped for a
# fifo does not block the open (the fstat check then refuses it)
_READ = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_local = threading.local()
_AGAIN = "something is writing to this folder; try again when it is finished"


def buffer() -> memoryview:
    """This thread's read buffer."""
    view = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(BUF_SIZE))
    return view


def open_source(path: str, rel: str = "", ino: int | None = None) -> int:
    """Open a file read-only, without updating its access time when the OS allows that, and
    check it is still the regular file the walk saw (same inode): the source is never changed
    and never swapped for something outside the tree."""
    try:
        fd = os.open(path, _READ | _NOATIME)
    except PermissionError:  # O_NOATIME needs ownership of the file (or CAP_FOWNER)
        fd = os.open(path, _READ)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the file became a symlink
            raise Changed(f"{rel or path} was replaced while it was being read: {_AGAIN}") from None
        raise
    if ino is not None:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_ino != ino:
            os.close(fd)
            raise Changed(f"{rel or path} was replaced while it was being read: {_AGAIN}")
    return fd


def new_hasher(size: int) -> blake3:
    return blake3(max_threads=blake3.AUTO) if size >= BIG else blake3()


def write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def stream(
    src: int,
    h: blake3,
    out: int | None = None,
    first: memoryview | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Hash (and copy to ``out``) everything left in ``src``, after the already-read
    ``first`` chunk; returns the bytes hashed. Checks ``cancel`` between chunks so a huge
    file does not hold up a cancel."""
    view = buffer()
    total = 0
    if first is not None:
        h.update(first)
        if out is not None:
            write_all(out, first)
        total = len(first)
        if len(first) < len(view):
            return total
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        n = os.readv(src, [view])
        if n:
            chunk = view[:n]
            h.update(chunk)
            if out is not None:
                write_all(out, chunk)
            total += n
        if n < len(view):
            return total


def hash_file(
    path: str, rel: str = "", ino: int | None = None, cancel: threading.Event | None = None
) -> tuple[str, int]:
    """(BLAKE3 hex, bytes read) of one file."""
    fd = open_source(path, rel, ino)
    try:
        view = buffer()
        n = os.readv(fd, [view])
        if n < len(view):  # the whole file is in the buffer (the common case)
            return blake3(view[:n]).hexdigest(), n
        h = new_hasher(BIG)
        total = stream(fd, h, None, view[:n], cancel)
        return h.hexdigest(), total
    finally:
        os.close(fd)
