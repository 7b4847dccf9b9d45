"""Who a transfer's child process runs as: the volume's owner, never root.

A user controls every name and byte in their volume (a symlink swapped in mid-transfer, a Git
repository's config, a ``.git`` that is a file). The storage engine reads such trees with the
owner's filesystem uid (:mod:`..storage.creds`); a transfer's child process goes further and
*is* the owner: uid, gid and supplementary groups of the volume's folder
(:meth:`Reader.of <..storage.creds.Reader.of>`), so the kernel refuses it what the owner may not
read or write, whatever git, huggingface_hub or boto3 do with the names they meet.

* a download into, or an upload from, a volume: the volume folder's owner; a folder still
  root's (a volume no server has used yet) is first handed to ``fallback`` (the servers' user,
  as the local spawner does when it mounts a volume writable) for a download;
* an upload of a dataset version (read-only, world-readable files): the owner of the volume a
  reference version lives in, else ``fallback``;
* a registry that is not root: its own uid (nothing to switch, and never root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...transfers import spec as specmod
from .. import storage
from ..errors import RegistryError

UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int
    groups: tuple[int, ...]

    def popen(self) -> dict[str, Any]:
        """``subprocess.Popen`` arguments switching the child to this identity before exec."""
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}


def of_user(name: str) -> RunAs:
    """A host user by name or number (``transfer_user``); never root."""
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, ValueError):
        if not name.isdigit():
            raise RegistryError(
                f"the host user {name!r} that transfers run as does not exist: create it or "
                "set RegistryApp.transfer_user",
                reason=UNAVAILABLE,
            ) from None
        return _checked(RunAs(int(name), int(name), (int(name),)))
    groups = tuple(sorted(set(os.getgrouplist(entry.pw_name, entry.pw_gid))))
    return _checked(RunAs(entry.pw_uid, entry.pw_gid, groups))


def _checked(who: RunAs) -> RunAs:
    if who.uid == 0 or who.gid == 0 or 0 in who.groups:
        raise RegistryError(
            "transfers never run as root (uid 0 or group 0): set RegistryApp.transfer_user "
            "to an unprivileged user",
            reason=UNAVAILABLE,
        )
    return who


def _volume_of(layout: storage.StorageLayout, path: Path) -> Path | None:
    """The volume folder ``path`` lies in, if any (a reference version's source)."""
    volumes = layout.root / "volumes"
    try:
        rel = Path(os.path.realpath(path)).relative_to(volumes)
    except ValueError:
        return None
    return volumes / rel.parts[0] if rel.parts else None


def choose(
    layout: storage.StorageLayout, spec: dict[str, Any], local_root: Path, fallback: str
) -> RunAs | None:
    """The identity for this transfer's child; None when the registry is not root."""
    if os.geteuid() != 0:
        return None
    local = specmod.local_of(spec)
    folder = (
        layout.volume_dir(local["volume_id"])
        if local["type"] == "volume"
        else _volume_of(layout, local_root)
    )
    try:
        reader = storage.Reader.of(folder) if folder is not None else None
        if reader is not None:
            return _checked(RunAs(reader.uid, reader.gid, reader.groups))
        who = of_user(fallback)
        if folder is not None and spec["direction"] == "download":
            _hand_over(folder, who)
        return who
    except OSError as e:  # the volume's folder is gone or was swapped for a link
        raise RegistryError(
            f"the volume's folder cannot be used: {e.strerror or e}", reason="not-found"
        ) from None


def _hand_over(folder: Path, who: RunAs) -> None:
    """Give a root-owned volume folder to ``who`` so it can write there (only the folder:
    what is inside keeps its owner). Opened without following a link."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_uid == 0:
            os.fchown(fd, who.uid, who.gid)
    finally:
        os.close(fd)


_usable: set[tuple[str, int]] = set()


def check_python(python: str, who: RunAs | None) -> None:
    """``python`` must start the transfer module as ``who``: a registry's interpreter under
    ``/root`` is not readable by others. Fails with what to configure, never runs as root
    instead. Checked once per interpreter and uid."""
    uid = os.geteuid() if who is None else who.uid
    if (python, uid) in _usable:
        return
    try:
        out = subprocess.run(
            [python, "-I", "-c", "import fermi_jupyter.transfers.run"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
            **(who.popen() if who else {}),
        )
        said = (out.stderr.strip().splitlines() or [""])[-1] if out.returncode else ""
        ok = out.returncode == 0
    except (OSError, subprocess.TimeoutExpired) as e:
        ok, said = False, str(e)
    if not ok:
        raise RegistryError(
            f"the transfer interpreter {python} cannot run as uid {uid} ({said[:200]}): set "
            "RegistryApp.transfer_python to a Python with fermi_jupyter[transfers] installed "
            "that this uid can read (scripts/setup.sh builds one in .work/server-venv)",
            reason=UNAVAILABLE,
        )
    _usable.add((python, uid))


HOME_PREFIX = "fermi-transfer-home-"
_HOME = re.compile(rf"^{HOME_PREFIX}(\d+)-")


class PrivateHome:
    """HOME and TMPDIR for one child: ``<tmp>/fermi-transfer-home-<registry pid>-*/home``, the
    outer folder root's (mode 711, so the child can neither rename nor replace what is removed
    afterwards), the inner one the child's (mode 700)."""

    def __init__(self, who: RunAs | None):
        self.outer = tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{os.getpid()}-")
        self.path = os.path.join(self.outer, "home")
        os.mkdir(self.path, 0o700)
        if who is not None:
            os.chmod(self.outer, 0o711)
            os.chown(self.path, who.uid, who.gid)

    def remove(self) -> None:
        shutil.rmtree(self.outer, ignore_errors=True)


def sweep_homes() -> int:
    """Remove the private homes of registries that died during an attempt (their pid is gone)."""
    removed = 0
    tmp = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for name in os.listdir(tmp):
            m = _HOME.match(name)
            if not m or _alive(int(m.group(1))):
                continue
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
