"""``FermiSpawner``: KubeSpawner's profile form plus "Storage mounts", every choice checked on
the hub at every start, and the plan rendered into the pod (read-only dataset subPaths,
FERMI_MOUNTS, zone affinity).

It keeps KubeSpawner's behaviour, so an admin moves over with an existing config: every
``profile_list`` form KubeSpawner accepts (a list, a dict keyed by slug, a callable, profiles
without a slug), ``options_from_form`` returning a dict, a form that degrades with a message
when the registry or a registry token is unavailable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from kubespawner import KubeSpawner
from tornado.concurrent import Future
from traitlets import Unicode, default

from ..domain.mount_rules import PlanError, PlanErrors, check_plan
from ..domain.mounts import Mount
from ..i18n import msg
from . import pod
from .mixin import OPTION_KEYS, FormRefused, StorageMountsMixin
from .profiles import check_options, load_profiles, visible_to


class FermiSpawner(StorageMountsMixin, KubeSpawner):
    storage_pvc = Unicode(
        "fermi-storage",
        help="The ReadWriteMany PVC holding the storage root (volumes/, datasets/), e.g. "
        "fermi-storage. Every mount is a subPath of it.",
    ).tag(config=True)
    zone_label = Unicode(
        "topology.kubernetes.io/zone",
        help="Node label naming a node's zone, e.g. topology.kubernetes.io/zone; pods go to "
        "the zone of the data they mount.",
    ).tag(config=True)
    profiles_dir = Unicode(
        help="A folder of profile YAML files (kubespawner_profiles/), e.g. /etc/fermi/profiles. "
        "Loaded at start-up: a malformed file stops the hub naming the file and field. "
        "Without it, profile_list is used as KubeSpawner uses it."
    ).tag(config=True)

    @default("profile_list")
    def _profile_list_default(self):  # type: ignore[no-untyped-def]
        if not self.profiles_dir:
            return []
        profiles = load_profiles(Path(self.profiles_dir))

        def for_user(spawner: FermiSpawner) -> list[dict[str, Any]]:
            return visible_to(profiles, spawner.user_groups(), spawner.user_is_admin())

        return for_user

    async def allowed_profiles(self) -> list[dict[str, Any]]:
        """The profiles this user may start, as KubeSpawner reads ``profile_list``: a list, a
        dict keyed by slug, or a callable (sync or async) returning either."""
        profiles = self._sorted_dict_values(self.profile_list)
        if callable(profiles):
            profiles = profiles(self)
            if isinstance(profiles, Future) or hasattr(profiles, "__await__"):
                profiles = await profiles
            profiles = self._sorted_dict_values(profiles)
        return self._get_initialized_profile_list(profiles or [])

    async def default_mounts_async(self) -> dict[str, list[dict[str, Any]]]:
        allowed = await self.allowed_profiles()
        chosen = next((p for p in allowed if p.get("default")), allowed[0] if allowed else None)
        return ((chosen or {}).get("fermi") or {}).get("mounts", {})

    def user_groups(self) -> set[str]:
        return {g.name for g in getattr(self.user, "groups", []) or []}

    def user_is_admin(self) -> bool:
        return bool(getattr(self.user, "admin", False))

    async def storage_form(self) -> str:
        self._fermi_defaults = await self.default_mounts_async()
        return await super().storage_form()

    def default_mounts(self) -> dict[str, list[dict[str, Any]]]:
        return getattr(self, "_fermi_defaults", {})

    def _options_form_default(self):  # type: ignore[no-untyped-def]
        stock = KubeSpawner._options_form_default(self)

        async def render(spawner: FermiSpawner) -> str:
            # a remembered profile that is gone (or no longer allowed): KubeSpawner falls back
            # to the default; say so rather than silently switching
            allowed = {p["slug"] for p in await spawner.allowed_profiles()}
            last = (spawner.user_options or {}).get("profile")
            spawner._fermi_notices = (
                [
                    msg(
                        "Your last profile {profile} is no longer available to you; using the "
                        "default.",
                        profile=str(last)[:60],
                    )
                ]
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

    def _fermi_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        """KubeSpawner's dict (profile and its options) plus the storage choices."""
        options = dict(
            KubeSpawner._options_from_form(
                self,
                {
                    k: v
                    for k, v in formdata.items()
                    if k == "profile" or k.startswith("profile-option-")
                },
            )
        )
        options.update(self.storage_options_from_form(formdata))
        return options

    async def run_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        options = super().run_options_from_form(formdata)
        try:
            await self.check_profile(options)
        except PlanErrors as e:
            self.remember_errors(e)
            raise FormRefused(e.errors) from None
        return await self.check_form_storage(options)

    async def check_profile(self, options: dict[str, Any]) -> dict[str, Any] | None:
        """The chosen profile must be one this user may start, its options listed choices."""
        allowed = await self.allowed_profiles()
        slug = options.get("profile")
        if slug is not None and not isinstance(slug, str):
            raise PlanErrors([PlanError("profile", msg("must be a profile name"))])
        if slug and slug not in {p["slug"] for p in allowed}:
            raise PlanErrors(
                [
                    PlanError(
                        "profile",
                        msg("profile {slug} is not available to you", slug=repr(slug[:60])),
                    )
                ]
            )
        profile = next((p for p in allowed if p["slug"] == slug), None)
        if profile is None and allowed:
            profile = next((p for p in allowed if p.get("default")), allowed[0])
        refused = check_options(profile, options) if profile else []
        if refused:
            raise PlanErrors([PlanError(f, m) for f, m in refused])
        return profile

    async def _profile_option_keys(self) -> set[str]:
        profile = await self.check_profile(self.user_options or {})
        names = set((profile or {}).get("profile_options") or {})
        return names | {f"{n}--unlisted-choice" for n in names}

    async def start(self) -> Any:  # type: ignore[override]
        try:
            self._fermi_option_keys = await self._profile_option_keys()
        except PlanErrors as e:
            raise self._refusal(e) from None
        plan = await self.plan_for_start()
        self.apply_plan(plan)
        result = await super().start()
        await self.record_mounts(plan)
        return result

    async def _start_reflector(self, kind: str, *args: Any, **kwargs: Any) -> Any:
        """KubeSpawner starts the pod and event reflectors together and cancels one when the
        other fails (an API it cannot reach). The cancelled one stayed registered with a first
        load that never comes, and every later start or stop of any server waited for it:
        the server stayed "pending" until the hub restarted. Fail and forget it instead, so
        the next start or stop makes a new one. (Only one this call made: a caller cancelled
        while waiting for another call's reflector leaves that one loading.)"""
        key = self._get_reflector_key(kind)
        before = type(self).reflectors.get(key)
        try:
            return await super()._start_reflector(kind, *args, **kwargs)
        except asyncio.CancelledError:
            reflector = type(self).reflectors.get(key)
            made_here = reflector is not None and reflector is not before
            if made_here and not reflector.first_load_future.done():
                type(self).reflectors.pop(key, None)
                loaded = reflector.first_load_future
                loaded.set_exception(RuntimeError(f"the {kind} reflector's start was cancelled"))
                loaded.exception()  # (retrieved: no "never retrieved" warning if none waits)
            raise

    def allowed_option_keys(self) -> set[str]:
        return OPTION_KEYS | getattr(self, "_fermi_option_keys", set())

    async def stop(self, now: bool = False) -> None:  # type: ignore[override]
        try:
            await super().stop(now=now)
        finally:  # the versions are free again even if the stop itself failed
            await self.forget_mounts()

    def apply_plan(self, plan: list[Mount]) -> None:
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
