"""The storage part shared by FermiSpawner (Kubernetes) and LocalFermiSpawner (one machine):
the form section, server-side validation of every choice through the registry *as the user*,
and recording which versions a running server mounts."""

from __future__ import annotations

import os
from typing import Any

from traitlets import Unicode, default
from traitlets.config import LoggingConfigurable

from . import form as storage_form
from .hubapi import RegistryAsUser, RegistryDown
from .plan import PlanError, PlanErrors, PlannedMount, check_plan, dataset_mount, volume_mount


class StorageMountsMixin(LoggingConfigurable):
    hub_registry_url = Unicode(
        help="The registry API as the hub reaches it, e.g. "
        "http://127.0.0.1:10101/services/fermi-registry/api/v1. Default: $FERMI_REGISTRY_URL."
    ).tag(config=True)
    server_registry_url = Unicode(
        help="The registry API as users' servers reach it (FERMI_REGISTRY_URL in the server). "
        "Default: the hub's URL."
    ).tag(config=True)
    notebook_home = Unicode(
        "/home/jovyan", help="The home folder inside servers; mounts may not cover it."
    ).tag(config=True)

    @default("hub_registry_url")
    def _hub_registry_url(self) -> str:
        return os.environ.get(
            "FERMI_REGISTRY_URL", "http://127.0.0.1:10101/services/fermi-registry/api/v1"
        )

    @default("server_registry_url")
    def _server_registry_url(self) -> str:
        return self.hub_registry_url

    # -- the form ---------------------------------------------------------------------------
    def registry(self) -> RegistryAsUser:
        if not hasattr(self, "_fermi_registry"):
            self._fermi_registry = RegistryAsUser(self.hub_registry_url, self.user)
        return self._fermi_registry

    async def storage_form(self) -> str:
        errors = getattr(self, "_fermi_errors", {})
        notices: list[str] = list(getattr(self, "_fermi_notices", []))
        prefill = storage_form.StorageChoices()
        try:
            volumes = (await self.registry().get("/volumes", limit=200))["items"]
            prefill = await self._remembered(volumes, notices)
        except RegistryDown:
            volumes = None
        if hasattr(self, "_fermi_submitted"):
            prefill = self._fermi_submitted
        hub_prefix = getattr(getattr(self, "hub", None), "base_url", "/hub/")
        return storage_form.render(
            search_url=f"{hub_prefix.rstrip('/')}/fermi/datasets",
            volumes=volumes,
            prefill=prefill,
            errors=errors,
            notices=notices,
        )

    def default_mounts(self) -> dict[str, list[dict[str, Any]]]:
        """Pre-filled choices for a first spawn (FermiSpawner: the default profile's mounts)."""
        return {}

    async def _remembered(
        self, volumes: list[dict], notices: list[str]
    ) -> storage_form.StorageChoices:
        """Last choices, minus what no longer exists (dropped with a notice, not an error)."""
        last = (getattr(self, "user_options", None) or {}).get("storage")
        first_spawn = last is None
        if first_spawn:
            last = self._defaults_as_choices(volumes)
        out = storage_form.StorageChoices()
        ids = {v["id"] for v in volumes}
        for d in last.get("datasets", []):
            ds, v = await self.registry().version(d["ref"], str(d.get("version") or "latest"))
            if ds is None or v is None or v.get("status") != "ready":
                notices.append(
                    f"The default dataset {d['ref']} is not available to you and was left out."
                    if first_spawn
                    else f"Your last choice {d['ref']}@{d.get('version')} is no longer "
                    "available and was dropped."
                )
                continue
            out.datasets.append(storage_form.DatasetChoice(**d))
        for v in last.get("volumes", []):
            if v["volume_id"] not in ids:
                notices.append(
                    f"Your last volume {v['volume_id']} no longer exists and was dropped."
                )
                continue
            out.volumes.append(storage_form.VolumeChoice(**v))
        return out

    def _defaults_as_choices(self, volumes: list[dict]) -> dict[str, Any]:
        defaults = self.default_mounts()
        first = volumes[:1]
        return {
            "datasets": [
                {"ref": d["ref"], "version": d["version"], "path": d["mount_path"]}
                for d in defaults.get("datasets", [])
            ],
            "volumes": [
                {"volume_id": first[0]["id"], "path": v["mount_path"], "read_only": False}
                for v in defaults.get("volumes", [])[:1]
                if first
            ],
        }

    # -- validation -------------------------------------------------------------------------
    async def storage_options(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        """Form → validated plan. Raises PlanErrors (the form shows each next to its field)."""
        choices = storage_form.parse(formdata)
        self._fermi_submitted = choices
        reg = self.registry()
        plan: list[PlannedMount] = []
        errors: list[PlanError] = []
        home = self.notebook_home
        try:
            for i, d in enumerate(choices.datasets):
                try:
                    ds, v = await reg.version(d.ref, d.version or "latest")
                    plan.append(dataset_mount(f"datasets.{i}", v, ds, d.path or None, home))
                except PlanError as e:
                    errors.append(e)
            for i, c in enumerate(choices.volumes):
                try:
                    vol = await reg.get(f"/volumes/{c.volume_id}")
                    plan.append(
                        volume_mount(f"volumes.{i}", vol, c.path or None, c.read_only, home)
                    )
                except PlanError as e:
                    errors.append(e)
            if choices.new_volume and not errors:
                nv = choices.new_volume
                # check where it would go before creating it: a refused form leaves no volume
                draft = {"id": "(new)", "name": nv.name, "storage_path": "volumes/(new)"}
                try:
                    check_plan(
                        [*plan, volume_mount("new_volume", draft, nv.path or None, False, home)]
                    )
                except PlanError as e:
                    raise PlanErrors([e]) from None
                try:
                    vol = await reg.send(
                        "POST", "/volumes", {"name": nv.name, "capacity": nv.size, "type": nv.type}
                    )
                except Exception as e:  # the registry's own 4xx message
                    raise PlanErrors([PlanError("new_volume", _message(e))]) from None
                plan.append(volume_mount("new_volume", vol, nv.path or None, False, home))
        except RegistryDown:
            raise PlanErrors(
                [
                    PlanError(
                        "mounts",
                        "the dataset registry is not reachable right "
                        "now; start without mounts or try again",
                    )
                ]
            ) from None
        if errors:
            raise PlanErrors(errors)
        check_plan(plan)
        del self._fermi_submitted
        return {"storage": choices.to_json(), "mounts": [m.to_json(for_server=False) for m in plan]}

    def remember_errors(self, exc: PlanErrors) -> None:
        self._fermi_errors = {e.field: e.message for e in exc.errors}

    def clear_errors(self) -> None:
        self._fermi_errors = {}

    def plan(self) -> list[PlannedMount]:
        return [PlannedMount.from_json(m) for m in (self.user_options or {}).get("mounts", [])]

    # -- mount records ----------------------------------------------------------------------
    def server_key(self) -> str:
        name = getattr(self, "name", "") or ""
        return f"{self.user.name}/{name}" if name else self.user.name

    async def record_mounts(self) -> None:
        refs = [{"version": m.ref, "mount_path": m.mount_path} for m in self.plan() if m.ref]
        try:
            await self.registry().send("PUT", f"/mounts/{self.server_key()}", {"mounts": refs})
        except Exception as e:  # a spawn must not fail because bookkeeping did
            self.log.warning("could not record mounts of %s: %s", self.server_key(), e)

    async def forget_mounts(self) -> None:
        try:
            await self.registry().send("DELETE", f"/mounts/{self.server_key()}")
        except Exception as e:
            self.log.warning("could not forget mounts of %s: %s", self.server_key(), e)


def _message(e: Exception) -> str:
    import json

    body = getattr(getattr(e, "response", None), "body", None)
    try:
        return json.loads(body)["message"] if body else str(e)
    except (ValueError, KeyError):
        return str(e)
