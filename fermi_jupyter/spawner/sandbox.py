"""The bubblewrap command line for one server on one machine: the same mount plan as a pod.

The sandbox starts from an empty root. Inside it exist only: the system folders (read-only),
the Python runtime and the installed package (read-only, ``runtime.py``), the user's home
(read-write), each dataset version (read-only) and each volume of the plan. The process runs
as an unprivileged host uid (the hub drops to it before starting bubblewrap), in new user, pid,
ipc and cgroup namespaces with every capability dropped, so it cannot remount a read-only bind
and acts towards files as that uid, never as root.

Two checks run before any command line is built: no bound folder may hold the hub's state
(``check_protected``), and every storage source must be a real folder reached without
following a symbolic link (``check_sources``) — a user's volume is hostile ground.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..domain.mounts import Mount, MountKind
from ..i18n import msg

# what a server needs of the host system; /opt, /srv, /var, /home, /root and /tmp stay out
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc")


class SandboxError(RuntimeError):
    """A sandbox that must not start; the message says why and what to change."""


@dataclass(frozen=True)
class Bind:
    source: str  # host path
    target: str  # path inside the sandbox
    writable: bool = False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_protected(binds: Iterable[str], protected: Iterable[str]) -> None:
    """Refuse when a bound folder is, or contains, something that holds the hub's state
    (cookie secret, databases, the storage root, ``FERMI_HOME``)."""
    real = {os.path.realpath(p): p for p in protected if p}
    for bind in binds:
        source = os.path.realpath(bind)
        for path, name in real.items():
            if _inside(path, source):
                raise SandboxError(
                    msg(
                        "refusing to start: the sandbox would see {bind}, which holds the hub's "
                        "{state}; move that out of every folder servers can read",
                        bind=bind,
                        state=name,
                    )
                )


def storage_binds(plan: Sequence[Mount], storage_root: str) -> list[Bind]:
    root = os.path.realpath(storage_root)
    return [
        Bind(
            os.path.join(root, m.source),
            m.mount_path,
            writable=m.kind is MountKind.volume and not m.read_only,
        )
        for m in plan
    ]


def open_source(storage_root: str, relative: str) -> int:
    """Open ``storage_root/relative`` as a directory, one component at a time, refusing
    symbolic links and anything that is not a directory. Returns the descriptor."""
    fd = os.open(storage_root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in relative.split("/"):
            if part in ("", ".", ".."):
                raise SandboxError(msg("{path} is not a clean storage path", path=relative))
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise SandboxError(
                        msg(
                            "{path} is not a folder (a symbolic link or a file is in the way); "
                            "it was not mounted",
                            path=relative,
                        )
                    ) from None
                if e.errno == errno.ENOENT:
                    raise SandboxError(
                        msg("{path} is missing from the storage root", path=relative)
                    ) from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def check_sources(plan: Sequence[Mount], storage_root: str) -> None:
    for m in plan:
        os.close(open_source(storage_root, m.source))


def bwrap_args(
    binds: Sequence[Bind],
    *,
    home_source: str,
    home: str,
    runtime: Iterable[str] = (),
    uid: int = 1000,
    gid: int = 1000,
    files: Iterable[tuple[str, str]] = (),
    devices: Iterable[str] = (),
    bwrap: str = "bwrap",
) -> list[str]:
    """``files``: ``(host file, path inside)`` bound read-only (e.g. a cgroup's memory
    events); ``devices``: device nodes to pass through (GPUs)."""
    args = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-user",
        "--uid",
        str(uid),
        "--gid",
        str(gid),
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "fermi",
        "--unshare-cgroup-try",
        "--cap-drop",
        "ALL",
    ]
    for path in SYSTEM:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    for device in devices:
        args += ["--dev-bind", device, device]
    for path in runtime:  # after /tmp: a runtime may live below it
        args += ["--ro-bind", path, path]
    for host, inside in files:
        args += ["--ro-bind", host, inside]
    args += ["--bind", home_source, home, "--setenv", "HOME", home, "--chdir", home]
    for b in binds:
        args += ["--bind" if b.writable else "--ro-bind", b.source, b.target]
    return args


def prepare_home(path: Path, uid: int, gid: int) -> None:
    """The user's home on the host: created by the hub, owned by the server's uid, private."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (uid, gid) and os.geteuid() == 0:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def own_volume_roots(plan: Sequence[Mount], storage_root: str, uid: int, gid: int) -> None:
    """A writable volume's root folder is the server uid's, so files written there are too.
    (Only the root: what the registry wrote inside stays as it is.)"""
    if os.geteuid() != 0:
        return
    for m in plan:
        if m.kind is MountKind.volume and not m.read_only:
            fd = open_source(storage_root, m.source)
            try:
                st = os.fstat(fd)
                if st.st_uid != uid:
                    os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
