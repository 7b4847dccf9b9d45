"""Rules for mount paths and whole mount plans: pure functions, no I/O.

Every mount path goes through ``normalize_path`` before any rule looks at it, so a rule never
sees ``//etc``, ``/data/../etc`` or a decomposed Unicode spelling of a name it refuses.
"""

from __future__ import annotations

import itertools
import posixpath
import unicodedata
from collections.abc import Sequence

from ..i18n import msg
from .mounts import MAX_MOUNTS, MAX_PATH, Mount

# folders a mount may never be, nor be inside of (the sandbox and the image need them)
SYSTEM = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys")
SYSTEM += ("/usr",)
# folders a mount may not *be* (mounting over them hides what the server needs), though a
# mount below some of them is fine (e.g. /opt/data, /srv/shared)
RESERVED = ("/", "/opt", "/root", "/run", "/srv", "/tmp", "/var", "/home")


class PlanError(ValueError):
    """One refused choice; ``field`` says where the form shows it (e.g. ``datasets.0.path``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class PlanErrors(ValueError):
    def __init__(self, errors: list[PlanError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def _invisible(ch: str) -> bool:
    """Control, format (zero-width, bidi overrides), separator and unassigned characters;
    a plain space is allowed."""
    if ch == " ":
        return False
    return unicodedata.category(ch)[0] in ("C", "Z")


def normalize_path(field: str, path: object, home: str = "") -> str:
    """The one normal form of a mount path, or a ``PlanError`` saying exactly what is wrong."""
    if not isinstance(path, str) or not path.strip():
        raise PlanError(field, msg("a mount path is required, e.g. /datasets/imagenet"))
    path = unicodedata.normalize("NFC", path.strip())
    bad = next((ch for ch in path if _invisible(ch)), None)
    if bad is not None:
        raise PlanError(
            field,
            msg(
                "mount paths may not contain control or invisible characters (found {char})",
                char=f"U+{ord(bad):04X}",
            ),
        )
    if len(path) > MAX_PATH:
        raise PlanError(field, msg("mount paths are at most {n} characters", n=MAX_PATH))
    if not path.startswith("/"):
        raise PlanError(
            field,
            msg(
                "{path} must be absolute, e.g. {example}",
                path=path,
                example="/" + path.lstrip("./"),
            ),
        )
    if ".." in path.split("/"):
        raise PlanError(field, msg("{path} contains '..'", path=path))
    # posixpath keeps a leading "//" (POSIX leaves it implementation-defined); Linux does not
    norm = "/" + posixpath.normpath(path).lstrip("/")
    norm = norm.rstrip("/") or "/"
    if norm in RESERVED or norm in SYSTEM or any(norm.startswith(s + "/") for s in SYSTEM):
        raise PlanError(
            field,
            msg("{path} is a system folder; choose e.g. /datasets/… or /workspace", path=norm),
        )
    home = ("/" + posixpath.normpath(home).lstrip("/")) if home else ""
    if home and (norm == home or home.startswith(norm + "/")):
        raise PlanError(
            field,
            msg(
                "{path} would hide your home folder {home}; choose another path",
                path=norm,
                home=home,
            ),
        )
    return norm


def check_plan(mounts: Sequence[Mount]) -> None:
    """Rules across mounts: bounded count, no duplicates, no nesting, one zone."""
    errors: list[PlanError] = []
    if len(mounts) > MAX_MOUNTS:
        raise PlanErrors(
            [
                PlanError(
                    "mounts",
                    msg(
                        "{n} mounts asked; at most {max} per server", n=len(mounts), max=MAX_MOUNTS
                    ),
                )
            ]
        )
    seen: dict[str, int] = {}
    for i, m in enumerate(mounts):
        if m.mount_path in seen:
            errors.append(PlanError(f"mounts.{i}", msg("{path} is used twice", path=m.mount_path)))
        seen[m.mount_path] = i
    for a, b in itertools.pairwise(sorted(seen)):
        if b.startswith(a.rstrip("/") + "/"):
            errors.append(
                PlanError(
                    f"mounts.{seen[b]}",
                    msg("{inner} is inside {outer}; mounts cannot nest", inner=b, outer=a),
                )
            )
    zones = sorted({m.zone for m in mounts if m.zone})
    if len(zones) > 1:
        where = ", ".join(f"{m.dataset_name or m.volume_name} ({m.zone})" for m in mounts if m.zone)
        errors.append(
            PlanError(
                "mounts",
                msg(
                    "these cannot be placed together — they live in different zones "
                    "{zones}: {where}",
                    zones=" and ".join(zones),
                    where=where,
                ),
            )
        )
    if errors:
        raise PlanErrors(errors)


def zone_of(mounts: Sequence[Mount]) -> str | None:
    zones = {m.zone for m in mounts if m.zone}
    return zones.pop() if len(zones) == 1 else None
