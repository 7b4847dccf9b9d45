"""Choices → mount plan, through the registry as the user: the one path every start takes.

Each dataset choice becomes the version the registry says the user may see (ready, with its
storage path); each volume choice the volume the registry says the user may use. Nothing a
caller sends is used as a location. Refusals name their field (``datasets.0``, ``volumes.1``,
``new_volume``, ``mounts``).
"""

from __future__ import annotations

from ..domain.mount_rules import PlanError, PlanErrors, check_plan
from ..domain.mounts import Mount
from ..i18n import msg
from .choices import NewVolume, StorageChoices, VolumeChoice
from .hubapi import RegistryAsUser, RegistryRefused, RegistryUnavailable
from .plan import dataset_mount, volume_mount


async def resolve(
    reg: RegistryAsUser,
    choices: StorageChoices,
    home: str,
    *,
    create: NewVolume | None = None,
) -> tuple[list[Mount], VolumeChoice | None]:
    """The plan for ``choices``; with ``create``, also make that volume (only when everything
    else is accepted, so a refused form leaves no volume behind) and return its choice."""
    plan: list[Mount] = []
    errors: list[PlanError] = []
    try:
        for i, d in enumerate(choices.datasets):
            field = f"datasets.{i}"
            try:
                ds, v = await reg.version(d.ref, d.version)
                plan.append(dataset_mount(field, v, ds, d.path or None, home))
            except PlanError as e:
                errors.append(e)
            except RegistryRefused as e:
                errors.append(PlanError(field, e.message))
        for i, c in enumerate(choices.volumes):
            field = f"volumes.{i}"
            try:
                vol = await reg.get(f"/volumes/{c.volume_id}")
                plan.append(volume_mount(field, vol, c.path or None, c.read_only, home))
            except PlanError as e:
                errors.append(e)
            except RegistryRefused as e:
                errors.append(PlanError(field, e.message))
        if errors:
            raise PlanErrors(errors)
        check_plan(plan)
        if create is None:
            return plan, None
        return await _create(reg, plan, create, home)
    except RegistryUnavailable as e:
        raise PlanErrors(
            [
                PlanError("mounts", e.args[0] if e.args else str(e)),
                PlanError(
                    "mounts.registry",
                    msg("start without storage mounts, or try again in a moment"),
                ),
            ]
        ) from None


async def _create(
    reg: RegistryAsUser, plan: list[Mount], nv: NewVolume, home: str
) -> tuple[list[Mount], VolumeChoice]:
    # check where it would go before creating it
    draft = {"id": "(new)", "name": nv.name, "storage_path": "volumes/(new)"}
    try:
        check_plan([*plan, volume_mount("new_volume", draft, nv.path or None, False, home)])
    except PlanError as e:
        raise PlanErrors([e]) from None
    try:
        vol = await reg.send(
            "POST", "/volumes", {"name": nv.name, "capacity": nv.size, "type": nv.type}
        )
    except RegistryRefused as e:  # the registry's own message: bad name, size, quota
        raise PlanErrors([PlanError("new_volume", e.message)]) from None
    mount = volume_mount("new_volume", vol, nv.path or None, False, home)
    return [*plan, mount], VolumeChoice(vol["id"], mount.mount_path, False)
