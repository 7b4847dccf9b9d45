"""Opening files in trees that someone else controls, without following their symlinks.

A volume's owner can swap any folder or file for a symlink at any moment. So a checked path
string is opened exactly once, component by component with ``O_NOFOLLOW`` (its components
were resolved by :func:`confine`, so a symlink met now was planted after the check and is
refused), and everything below it is opened relative to directory descriptors, again without
following links. Sub-folders are opened with ``openat2(RESOLVE_NO_XDEV)`` where the kernel has
it, so a mount point (another device or a bind mount) inside a tree is noticed and skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat

from .errors import StorageError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NOATIME = getattr(os, "O_NOATIME", 0)
# O_NONBLOCK: a file swapped for a fifo does not block the open (fstat then refuses it)
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_RESOLVE_NO_XDEV = 0x01
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_SYS_OPENAT2 = 437  # the same number on every architecture (added after the table merge)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_have_openat2: bool | None = None


class Refused(OSError):
    """A path component that is not what the check saw (a symlink, a mount point)."""


def _openat2(dir_fd: int, name: str, flags: int, resolve: int) -> int:
    how = _OpenHow(flags, 0, resolve)
    fd = _libc.syscall(
        _SYS_OPENAT2,
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(name)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), name)
    return fd


def open_subdir(dir_fd: int, name: str, dev: int) -> int:
    """Open the folder ``name`` in ``dir_fd``: never a symlink, never a mount point.

    Raises :class:`Refused` for a symlink (planted after the listing), a mount point, or a
    folder on another device (``dev`` is the tree's device); OSError for the rest."""
    global _have_openat2
    resolve = _RESOLVE_NO_XDEV | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS | _RESOLVE_BENEATH
    if _have_openat2 is not False:
        try:
            fd = _openat2(dir_fd, name, DIR_FLAGS, resolve)
            _have_openat2 = True
        except OSError as e:
            if e.errno == errno.ENOSYS:
                _have_openat2 = False
            elif e.errno == errno.EXDEV:
                raise Refused(e.errno, "a mount point (another device or a bind mount)") from None
            elif e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Refused(e.errno, "no longer a folder (a symlink or a file now)") from None
            else:
                raise
    if _have_openat2 is False:
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Refused(e.errno, "no longer a folder (a symlink or a file now)") from None
            raise
    if os.fstat(fd).st_dev != dev:
        os.close(fd)
        raise Refused(errno.EXDEV, "a mount point (another device)")
    return fd


def open_tree(path: str | os.PathLike[str], *, make: bool = False) -> int:
    """Open a folder given by an absolute, already-resolved path (what :func:`confine`
    returns): every component is opened relative to its parent with ``O_NOFOLLOW``, so a
    symlink planted anywhere on the path since it was resolved is refused, not followed.
    ``make``: create missing components (mode 0755)."""
    path = os.fspath(path)
    if not path.startswith("/"):
        raise StorageError(f"internal: {path!r} is not absolute", "io-error")
    fd = os.open("/", DIR_FLAGS)
    try:
        for part in path.split("/"):
            if part in ("", "."):
                continue
            try:
                try:
                    sub = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not make:
                        raise
                    _mkdir(fd, part)
                    sub = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise StorageError(
                        f"{part!r} was replaced by a symlink or a file after it was checked; "
                        "nothing was read through it",
                        "changed",
                    ) from None
                raise
            os.close(fd)
            fd = sub
    except BaseException:
        os.close(fd)
        raise
    return fd


def _mkdir(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=dir_fd)


def open_beneath(dir_fd: int, rel: str, *, make: bool = False) -> int:
    """Open the folder ``rel`` (``/``-separated, no ``..``) below ``dir_fd``, never following
    a symlink; a new descriptor even for ``""``. ``make``: create missing folders."""
    fd = os.dup(dir_fd)
    try:
        for part in rel.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                raise StorageError("'..' is not allowed here", "path-refused")
            try:
                try:
                    sub = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not make:
                        raise
                    _mkdir(fd, part)
                    sub = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise StorageError(
                        f"{part!r} was replaced by a symlink or a file after it was checked; "
                        "nothing was read or written through it",
                        "changed",
                    ) from None
                raise
            os.close(fd)
            fd = sub
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_read(dir_fd: int, name: str) -> int:
    """Open a file below ``dir_fd`` for reading without following a symlink and, when the
    OS allows, without updating its access time (that needs ownership or CAP_FOWNER)."""
    try:
        return os.open(name, READ_FLAGS | NOATIME, dir_fd=dir_fd)
    except PermissionError:
        return os.open(name, READ_FLAGS, dir_fd=dir_fd)


def check_regular(st: os.stat_result, dev: int) -> str | None:
    """Why an opened file may not be read (None if it may): it must be a regular file on the
    tree's device."""
    if not stat.S_ISREG(st.st_mode):
        return "it is no longer a regular file"
    if st.st_dev != dev:
        return "it is on another device (a mount point)"
    return None


def syncfs(fd: int) -> None:
    """Flush the filesystem holding ``fd`` to disk (one call, unlike ``sync``)."""
    if _libc.syncfs(ctypes.c_int(fd)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


_RENAME_NOREPLACE = 1
_libc.renameat2.restype = ctypes.c_int


def rename_noreplace(dir_fd: int, old: str, new: str) -> None:
    """Rename within one folder, failing with FileExistsError if ``new`` appeared meanwhile
    (``renameat2(RENAME_NOREPLACE)``; a plain rename where the filesystem lacks it)."""
    rc = _libc.renameat2(
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(old)),
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(new)),
        ctypes.c_uint(_RENAME_NOREPLACE),
    )
    if rc == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS):
        os.rename(old, new, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    raise OSError(err, os.strerror(err), new)
