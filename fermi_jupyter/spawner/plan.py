"""The mount plan: what a server mounts where, validated whatever the browser sent.

Pure rules, no I/O: the spawner resolves each choice through the registry (as the user) and
hands the results here. Dataset mounts are read-only, always.
"""

from __future__ import annotations

import itertools
import json
import posixpath
from dataclasses import asdict, dataclass
from typing import Any

RESERVED = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
)
MAX_MOUNTS = 16
MAX_PATH = 255


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


@dataclass(frozen=True)
class PlannedMount:
    kind: str  # dataset | volume
    source: str  # relative to the storage root: datasets/<ds>/<N> or volumes/<vol>[/<sub>]
    mount_path: str
    read_only: bool
    zone: str | None = None
    dataset_id: str | None = None
    dataset_name: str | None = None
    version: int | None = None
    ref: str | None = None
    volume_id: str | None = None
    volume_name: str | None = None
    sub_path: str = ""

    def for_server(self) -> dict[str, Any]:
        """The entry in FERMI_MOUNTS (what fermi_jupyter.mounts reads in the server)."""
        data = asdict(self)
        data.pop("source")
        data.pop("zone")
        return data


def to_env(plan: list[PlannedMount]) -> str:
    return json.dumps([m.for_server() for m in plan], ensure_ascii=False)


def normalize_path(field: str, path: Any, home: str) -> str:
    if not isinstance(path, str) or not path.strip():
        raise PlanError(field, "a mount path is required, e.g. /datasets/imagenet")
    path = path.strip()
    if not path.startswith("/"):
        raise PlanError(field, f"{path!r} must be absolute, e.g. /{path.lstrip('./')}")
    if len(path) > MAX_PATH or "\0" in path:
        raise PlanError(field, f"mount paths are at most {MAX_PATH} characters")
    if ".." in path.split("/"):
        raise PlanError(field, f"{path!r} contains '..'")
    norm = posixpath.normpath(path)
    home = posixpath.normpath(home) if home else ""
    if norm in RESERVED or any(
        norm.startswith(r + "/")
        for r in RESERVED
        if r in ("/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/sbin", "/lib", "/boot")
    ):
        raise PlanError(field, f"{norm} is a system folder; choose e.g. /datasets/… or /workspace")
    if home and (norm == home or home.startswith(norm + "/")):
        raise PlanError(field, f"{norm} would hide your home folder {home}; choose another path")
    return norm


def dataset_mount(
    field: str, version: dict[str, Any] | None, dataset: dict[str, Any] | None, path: Any, home: str
) -> PlannedMount:
    """``version`` and ``dataset`` are the registry's JSON as the user sees them (None: not
    visible or gone)."""
    if version is None or dataset is None:
        raise PlanError(field, "that dataset version does not exist or is not visible to you")
    if version.get("status") != "ready":
        raise PlanError(
            field, f"{dataset['name']} v{version['number']} is {version.get('status')}, not ready"
        )
    source = version.get("storage_path")
    if not source:
        raise PlanError(field, f"{dataset['name']} v{version['number']} has no files to mount")
    mount_path = normalize_path(field, path or f"/datasets/{dataset['name']}", home)
    return PlannedMount(
        kind="dataset",
        source=source,
        mount_path=mount_path,
        read_only=True,
        zone=dataset.get("zone"),
        dataset_id=dataset["id"],
        dataset_name=dataset["name"],
        version=version["number"],
        ref=f"{dataset['id']}@{version['number']}",
    )


def volume_mount(
    field: str,
    volume: dict[str, Any] | None,
    path: Any,
    read_only: bool,
    home: str,
    sub_path: str = "",
) -> PlannedMount:
    if volume is None:
        raise PlanError(field, "that volume does not exist or is not yours or your team's")
    if volume.get("backend", "root") != "root" or not volume.get("storage_path"):
        raise PlanError(field, f"volume {volume.get('name')} is not on the platform storage")
    sub = posixpath.normpath(sub_path.strip("/")) if sub_path.strip("/") else ""
    if sub.startswith("..") or sub.startswith("/"):
        raise PlanError(field, "the folder inside the volume must stay inside it")
    mount_path = normalize_path(field, path or "/workspace", home)
    source = volume["storage_path"] + (f"/{sub}" if sub else "")
    return PlannedMount(
        kind="volume",
        source=source,
        mount_path=mount_path,
        read_only=bool(read_only),
        zone=volume.get("zone"),
        volume_id=volume["id"],
        volume_name=volume["name"],
        sub_path=sub,
    )


def check_plan(mounts: list[PlannedMount]) -> None:
    """Rules across mounts: bounded count, no duplicates, no nesting, one zone."""
    errors: list[PlanError] = []
    if len(mounts) > MAX_MOUNTS:
        errors.append(PlanError("mounts", f"at most {MAX_MOUNTS} mounts per server"))
    seen: dict[str, int] = {}
    for i, m in enumerate(mounts):
        if m.mount_path in seen:
            errors.append(PlanError(f"mounts.{i}", f"{m.mount_path} is used twice"))
        seen[m.mount_path] = i
    paths = sorted(seen)
    for a, b in itertools.pairwise(paths):
        if b.startswith(a.rstrip("/") + "/"):
            errors.append(PlanError(f"mounts.{seen[b]}", f"{b} is inside {a}; mounts cannot nest"))
    zones = sorted({m.zone for m in mounts if m.zone})
    if len(zones) > 1:
        where = ", ".join(f"{m.dataset_name or m.volume_name} ({m.zone})" for m in mounts if m.zone)
        errors.append(
            PlanError(
                "mounts",
                f"these cannot be placed together — they live in "
                f"different zones {' and '.join(zones)}: {where}",
            )
        )
    if errors:
        raise PlanErrors(errors)


def zone_of(mounts: list[PlannedMount]) -> str | None:
    zones = {m.zone for m in mounts if m.zone}
    return zones.pop() if len(zones) == 1 else None
