"""What is mounted in this server (``FERMI_MOUNTS``) and where a local path belongs.

The spawner hands every server its validated mount plan (``domain.mounts.encode``). The server
extension, the ``%fermi`` magics and the ``fermi`` CLI all read it here, so they agree on what
a path means.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .domain.mounts import Mount, MountFormatError, MountKind, decode
from .workspace.errors import WorkspaceError
from .workspace.reasons import Reason

__all__ = ["Mount", "MountError", "load_mounts", "locate", "parents"]


class MountError(WorkspaceError, ValueError):
    """A path or plan that cannot be used; the message says what to do instead."""

    def __init__(self, message: str, reason: Reason | str = Reason.bad_path):
        super().__init__(message, reason)


def load_mounts(env: Mapping[str, str] | None = None) -> list[Mount]:
    """The mounts of this server; an empty list outside a fermi-spawned server."""
    raw = (env if env is not None else os.environ).get("FERMI_MOUNTS", "")
    try:
        return decode(raw)
    except MountFormatError as e:
        raise MountError(
            f"FERMI_MOUNTS is not a valid mount plan ({e}); restart the server from the hub",
            reason=Reason.bad_plan,
        ) from None


def parents(mounts: list[Mount]) -> list[str]:
    """Lineage: the dataset versions mounted here."""
    return sorted({m.ref for m in mounts if m.kind is MountKind.dataset and m.ref})


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def locate(path: str, mounts: list[Mount], cwd: str | None = None) -> tuple[Mount, str]:
    """Map a local path to (its volume mount, the path inside the volume).

    Refuses paths in dataset mounts (read-only, already registered) and outside every mount.
    Symlinks are resolved first, so a link cannot smuggle in another location.
    """
    if not isinstance(path, str) or not path or "\0" in path:
        raise MountError("path is required: a folder of a mounted volume, e.g. /workspace/out")
    real = os.path.realpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path)))
    best: tuple[Mount, str] | None = None
    for m in mounts:
        root = os.path.realpath(m.mount_path)
        if _inside(real, root) and (best is None or len(root) > len(best[1])):
            best = (m, root)
    if best is None:
        volumes = ", ".join(m.mount_path for m in mounts if m.kind is MountKind.volume) or "none"
        raise MountError(
            f"{path} is not inside a mounted volume (volumes here: {volumes}); "
            "move the data into one, e.g. /workspace",
            reason=Reason.not_in_volume,
        )
    mount, root = best
    if mount.kind is MountKind.dataset:
        raise MountError(
            f"{path} is inside the read-only dataset mount {mount.mount_path} "
            f"({mount.name}); it is already a dataset version — register a directory of a "
            "volume instead",
            reason=Reason.in_dataset,
        )
    rel = os.path.relpath(real, root)
    rel = "" if rel == "." else rel
    sub = "/".join(p for p in (mount.sub_path.strip("/"), rel) if p)
    return mount, sub
