"""Reading a volume as its owner, not as root.

A registry running as root could read any file a user links or moves into their volume,
including files the user may not read themselves (a teammate's private folder on a shared
volume). Where the owner's uid is known — the local case: the owner of the volume's folder —
opening and listing happen with the owner's *filesystem* credentials, so the kernel applies
the owner's permissions; writing into the store happens as the registry again.

Linux keeps filesystem uid/gid (``setfsuid``/``setfsgid``) and supplementary groups per
thread at the kernel level, and the raw ``setgroups`` system call (unlike glibc's wrapper)
changes only the calling thread. So a switch affects just the thread doing the work: the
registry's other threads, and its database connections, keep their credentials.
"""

from __future__ import annotations

import ctypes
import os
import platform
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# the raw setgroups system call per architecture (glibc's wrapper would change every thread)
_SYS_SETGROUPS = {"x86_64": 116, "aarch64": 159}.get(platform.machine())


@dataclass(frozen=True)
class Reader:
    """Whose permissions apply when a tree is read (or restored into)."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    root: str = ""  # the folder whose owner this is: paths below it are opened as the reader

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> Reader | None:
        """The owner of the folder ``path`` (a volume's root), or None when nothing is to be
        switched: the registry is not root (it reads with its own uid anyway), or the folder
        belongs to root."""
        if os.geteuid() != 0:
            return None
        st = os.stat(path)
        if st.st_uid == 0:
            return None
        try:
            name = pwd.getpwuid(st.st_uid).pw_name
            groups = tuple(sorted(set(os.getgrouplist(name, st.st_gid))))
        except KeyError:  # a uid without a passwd entry (a pod's uid, say): its own group only
            groups = (st.st_gid,)
        return cls(st.st_uid, st.st_gid, groups, os.path.realpath(path))

    def to_wire(self) -> tuple[int, int, tuple[int, ...]]:
        return (self.uid, self.gid, self.groups)


def _set_thread_groups(groups: tuple[int, ...] | list[int]) -> None:
    if _SYS_SETGROUPS is None:
        return  # an architecture we have no number for: groups stay as they are
    arr = (ctypes.c_uint * max(1, len(groups)))(*groups)
    if _libc.syscall(_SYS_SETGROUPS, ctypes.c_size_t(len(groups)), arr) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setgroups: {os.strerror(err)}")


def _setfs(uid: int, gid: int) -> None:
    # setfsuid/setfsgid return the previous value and never fail visibly: check by asking
    _libc.setfsgid(ctypes.c_uint(gid))
    _libc.setfsuid(ctypes.c_uint(uid))
    if _libc.setfsuid(ctypes.c_uint(0xFFFFFFFF)) != uid:
        raise PermissionError(f"cannot switch the filesystem uid to {uid}")


class Switch:
    """Per-thread switching between the registry's credentials and a reader's.

    ``enter()`` once on the working thread (sets its supplementary groups to the reader's;
    harmless for root work, which bypasses permission checks anyway), then ``as_reader()``
    around each open/listing, and ``leave()`` when done. With no reader everything is a no-op.
    """

    def __init__(self, reader: Reader | None):
        self.reader = reader
        self._saved_groups: list[int] | None = None

    def enter(self) -> None:
        if self.reader is not None:
            self._saved_groups = os.getgroups()
            _set_thread_groups(self.reader.groups)

    def leave(self) -> None:
        if self.reader is not None and self._saved_groups is not None:
            _setfs(0, 0)
            _set_thread_groups(self._saved_groups)
            self._saved_groups = None

    @contextmanager
    def as_reader(self) -> Iterator[None]:
        if self.reader is None:
            yield
            return
        _setfs(self.reader.uid, self.reader.gid)
        try:
            yield
        finally:
            _setfs(0, 0)

    def reader_on(self) -> None:
        if self.reader is not None:
            _setfs(self.reader.uid, self.reader.gid)

    def reader_off(self) -> None:
        if self.reader is not None:
            _setfs(0, 0)


def open_as(path: str | os.PathLike[str], switch: Switch, *, make: bool = False) -> int:
    """Open the resolved folder ``path`` (see ``fsafe.open_tree``): the part above the
    reader's root as the registry (the storage root need not be the owner's to traverse),
    the part below it as the reader. ``make``: create missing folders."""
    from .fsafe import open_beneath, open_tree

    path = os.fspath(path)
    reader = switch.reader
    root = reader.root if reader is not None else ""
    if not root or not (path == root or path.startswith(root.rstrip("/") + "/")):
        return open_tree(path, make=make)
    base = open_tree(root)
    try:
        rel = os.path.relpath(path, root)
        with switch.as_reader():
            return open_beneath(base, "" if rel == "." else rel, make=make)
    finally:
        os.close(base)
