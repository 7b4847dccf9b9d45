"""The bubblewrap command line for one server on one machine: the same mount plan as a pod.

The sandbox starts from an empty root: the system folders and the Python runtime are bound
read-only, dataset versions ``--ro-bind``, work volumes ``--bind``, the home folder read-write;
nothing else of the storage root exists inside. The process runs as an unprivileged uid in a
new user namespace with every capability dropped, so it cannot remount a read-only bind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from .plan import PlannedMount

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc", "/opt")


def runtime_paths() -> list[str]:
    """Where this Python and its packages live (e.g. a venv, a pyenv under /root)."""
    paths = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return sorted(p for p in paths if not any(p.startswith(s + "/") for s in SYSTEM))


def bwrap_args(
    plan: Iterable[PlannedMount],
    storage_root: Path,
    home: str,
    home_source: Path,
    *,
    uid: int = 1000,
    gid: int = 1000,
    extra_ro: Iterable[str] = (),
    bwrap: str = "bwrap",
) -> list[str]:
    args = [
        bwrap,
        "--die-with-parent",
        "--unshare-user",
        "--uid",
        str(uid),
        "--gid",
        str(gid),
        "--unshare-pid",
        "--unshare-ipc",
        "--cap-drop",
        "ALL",
    ]
    for path in SYSTEM:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in [*runtime_paths(), *extra_ro]:  # after /tmp: a runtime may live below it
        args += ["--ro-bind", path, path]
    args += ["--bind", str(home_source), home, "--setenv", "HOME", home, "--chdir", home]
    root = Path(storage_root)
    for m in plan:
        source = str(root / m.source)
        if m.kind == "dataset" or m.read_only:  # datasets: read-only whatever was asked
            args += ["--ro-bind", source, m.mount_path]
        else:
            args += ["--bind", source, m.mount_path]
    return args
