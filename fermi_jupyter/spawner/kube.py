"""``FermiSpawner``: KubeSpawner's profile form plus "Storage mounts", validated on the server,
and the plan rendered into the pod (read-only dataset subPaths, FERMI_MOUNTS, zone affinity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubespawner import KubeSpawner
from traitlets import Unicode, default

from . import pod
from .mixin import StorageMountsMixin
from .plan import PlanError, PlanErrors, PlannedMount, check_plan
from .profiles import check_options, load_profiles, visible_to


class FermiSpawner(StorageMountsMixin, KubeSpawner):
    storage_pvc = Unicode(
        "fermi-storage",
        help="The ReadWriteMany PVC holding the storage root (volumes/, datasets/), e.g. "
        "fermi-storage. Every mount is a subPath of it.",
    ).tag(config=True)
    zone_label = Unicode(
        "topology.kubernetes.io/zone",
        help="Node label naming a node's zone; pods go to the zone of the data they mount.",
    ).tag(config=True)

    profiles_dir = Unicode(
        help="A folder of profile YAML files (kubespawner_profiles/), e.g. /etc/fermi/profiles. "
        "Loaded at start-up: a malformed file stops the hub naming the file and field."
    ).tag(config=True)

    @default("profile_list")
    def _profile_list_default(self):  # type: ignore[no-untyped-def]
        if not self.profiles_dir:
            return []
        profiles = load_profiles(Path(self.profiles_dir))

        def for_user(spawner: FermiSpawner) -> list[dict[str, Any]]:
            return visible_to(profiles, spawner.user_groups(), spawner.user_is_admin())

        return for_user

    def _allowed_profiles(self) -> list[dict[str, Any]]:
        return self.profile_list(self) if callable(self.profile_list) else self.profile_list

    def default_mounts(self) -> dict[str, list[dict[str, Any]]]:
        allowed = self._allowed_profiles()
        default = next((p for p in allowed if p.get("default")), allowed[0] if allowed else None)
        return (default or {}).get("fermi", {}).get("mounts", {})

    def user_groups(self) -> set[str]:
        return {g.name for g in getattr(self.user, "groups", []) or []}

    def user_is_admin(self) -> bool:
        return bool(getattr(self.user, "admin", False))

    def _options_form_default(self):  # type: ignore[no-untyped-def]
        stock = KubeSpawner._options_form_default(self)

        async def render(spawner: FermiSpawner) -> str:
            # a remembered profile that is gone (or no longer allowed): KubeSpawner falls back
            # to the default; say so rather than silently switching
            allowed = {p["slug"] for p in spawner._allowed_profiles()}
            last = (spawner.user_options or {}).get("profile")
            spawner._fermi_notices = (
                [f"Your last profile {last} is no longer available to you; using the default."]
                if last and last not in allowed
                else []
            )
            profiles = stock(spawner) if callable(stock) else stock
            if hasattr(profiles, "__await__"):
                profiles = await profiles
            return (profiles or "") + await spawner.storage_form()

        return render

    @default("options_from_form")
    def _fermi_options_from_form_default(self):  # type: ignore[no-untyped-def]
        return self._fermi_options_from_form  # options_from_form is a trait: set its default

    async def _fermi_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        options = dict(KubeSpawner._options_from_form(self, formdata))
        slug = options.get("profile")
        allowed = self._allowed_profiles()
        if slug and slug not in {p["slug"] for p in allowed}:
            error = PlanErrors([PlanError("profile", f"profile {slug!r} is not available to you")])
            self.remember_errors(error)
            raise error
        profile = next((p for p in allowed if p["slug"] == slug), None)
        refused = check_options(profile, options) if profile else []
        if refused:
            error = PlanErrors([PlanError(f, m) for f, m in refused])
            self.remember_errors(error)
            raise error
        try:
            options.update(await self.storage_options(formdata))
        except PlanErrors as e:
            self.remember_errors(e)
            raise
        self.clear_errors()
        return options

    async def start(self) -> Any:  # type: ignore[override]
        self.apply_plan(self.plan())
        result = await super().start()
        await self.record_mounts()
        return result

    async def stop(self, now: bool = False) -> None:  # type: ignore[override]
        try:
            await super().stop(now=now)
        finally:  # the versions are free again even if the stop itself failed
            await self.forget_mounts()

    def apply_plan(self, plan: list[PlannedMount]) -> None:
        """Validate the plan as a whole and render it into this spawner's pod settings."""
        check_plan(plan)
        volumes, mounts = pod.pod_storage(plan, self.storage_pvc)
        self.volumes = [v for v in self.volumes if v.get("name") not in (pod.RO, pod.RW)] + volumes
        self.volume_mounts = [
            m for m in self.volume_mounts if m.get("name") not in (pod.RO, pod.RW)
        ] + mounts
        # KubeSpawner expands {placeholders} in env values: keep the JSON's braces literal
        env = {
            k: v.replace("{", "{{").replace("}", "}}")
            for k, v in pod.environment(plan, self.server_registry_url).items()
        }
        self.environment = {**self.environment, **env}
        self.extra_annotations = {**self.extra_annotations, **pod.annotations(plan)}
        affinity = pod.zone_affinity(plan, self.zone_label)
        if affinity:
            self.node_affinity_required = affinity
