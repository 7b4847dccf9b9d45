"""The hub side of the mount plan: the registry's answers (as the user sees them) → ``Mount``.

The type, its ``FERMI_MOUNTS`` JSON and the path and plan rules are the domain's
(``domain/mounts.py``, ``domain/mount_rules.py``); this module only builds mounts from what the
registry says, so a plan never holds anything the registry did not confirm.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ..domain.mount_rules import PlanError, PlanErrors, check_plan, normalize_path, zone_of
from ..domain.mounts import MAX_MOUNTS, MAX_PATH, Mount, MountKind, encode, volume_source
from ..i18n import msg

PlannedMount = Mount  # the name the spawners used before the contract moved to domain/
__all__ = [
    "MAX_MOUNTS",
    "MAX_PATH",
    "Mount",
    "PlanError",
    "PlanErrors",
    "PlannedMount",
    "check_plan",
    "dataset_mount",
    "normalize_path",
    "to_env",
    "volume_mount",
    "zone_of",
]


def to_env(plan: list[Mount]) -> str:
    """The ``FERMI_MOUNTS`` value for a server running this plan."""
    return encode(plan)


def dataset_mount(
    field: str, version: dict[str, Any] | None, dataset: dict[str, Any] | None, path: Any, home: str
) -> Mount:
    """``version`` and ``dataset`` are the registry's JSON as the user sees them (None: not
    visible or gone)."""
    if version is None or dataset is None:
        raise PlanError(field, msg("that dataset version does not exist or is not visible to you"))
    label = f"{dataset.get('name')} v{version.get('number')}"
    if version.get("status") != "ready":
        raise PlanError(
            field,
            msg("{version} is {status}, not ready", version=label, status=version.get("status")),
        )
    source = version.get("storage_path")
    if not source:
        raise PlanError(field, msg("{version} has no files to mount", version=label))
    _check_source(field, source)
    mount_path = normalize_path(field, path or f"/datasets/{dataset['name']}", home)
    return Mount(
        kind=MountKind.dataset,
        source=source,
        mount_path=mount_path,
        read_only=True,
        zone=dataset.get("zone"),
        dataset_id=dataset["id"],
        dataset_name=dataset["name"],
        dataset_owner=dataset.get("owner"),
        version=version["number"],
    )


def volume_mount(
    field: str,
    volume: dict[str, Any] | None,
    path: Any,
    read_only: bool,
    home: str,
    sub_path: str = "",
) -> Mount:
    if volume is None:
        raise PlanError(field, msg("that volume does not exist or is not yours or your team's"))
    if volume.get("backend", "root") != "root" or not volume.get("storage_path"):
        raise PlanError(
            field, msg("volume {name} is not on the platform storage", name=volume.get("name"))
        )
    sub = posixpath.normpath(sub_path.strip("/")) if sub_path.strip("/") else ""
    if sub.startswith("..") or sub.startswith("/"):
        raise PlanError(field, msg("the folder inside the volume must stay inside it"))
    mount_path = normalize_path(field, path or "/workspace", home)
    return Mount(
        kind=MountKind.volume,
        source=volume_source(volume["id"], sub),
        mount_path=mount_path,
        read_only=bool(read_only),
        zone=volume.get("zone"),
        volume_id=volume["id"],
        volume_name=volume["name"],
        sub_path=sub,
    )


def _check_source(field: str, source: str) -> None:
    """A storage path from the registry, checked anyway: relative, normalised, under datasets/
    or volumes/ — a registry bug must not become a bind of a host folder."""
    parts = source.split("/")
    if (
        source.startswith("/")
        or posixpath.normpath(source) != source
        or ".." in parts
        or parts[0] not in ("datasets", "volumes")
        or len(parts) < 2
    ):
        raise PlanError(field, msg("the registry gave an unusable storage path; nothing mounted"))
