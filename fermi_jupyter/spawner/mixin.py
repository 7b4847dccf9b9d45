"""The storage part shared by FermiSpawner (Kubernetes) and LocalFermiSpawner (one machine).

``user_options`` keeps only the user's choices (``choices.py``). Every start — the form, the
REST API, an admin's start, a named server, a restart after the hub restarted — reads them
strictly and resolves them again through the registry *as the user* (``resolve.py``); a plan
stored by an earlier start is never used. A REST caller whose choices are refused gets a 400
with a readable message; the form shows each message next to its field.
"""

from __future__ import annotations

import os
from typing import Any

from tornado import web
from traitlets import List, Unicode, default
from traitlets.config import LoggingConfigurable

from .. import i18n
from ..domain.mount_rules import PlanError, PlanErrors
from ..domain.mounts import Mount
from ..i18n import msg
from . import choices as ch
from . import form
from .hubapi import RegistryAsUser, RegistryRefused, RegistryUnavailable
from .resolve import resolve

OPTION_KEYS = {"profile", "storage"}


class FormRefused(PlanErrors):
    """The form's choices were refused; each message is shown next to its field."""

    def __str__(self) -> str:  # JupyterHub shows this above the form
        return str(msg("Some choices cannot be used; see the messages below."))


class StorageMountsMixin(LoggingConfigurable):
    hub_registry_url = Unicode(
        help="The registry API as the hub reaches it, e.g. "
        "http://127.0.0.1:10101/services/fermi-registry/api/v1. Default: $FERMI_REGISTRY_URL."
    ).tag(config=True)
    server_registry_url = Unicode(
        help="The registry API as users' servers reach it (FERMI_REGISTRY_URL in the server), "
        "e.g. http://proxy-public/services/fermi-registry/api/v1. Default: the hub's URL."
    ).tag(config=True)
    notebook_home = Unicode(
        "/home/jovyan",
        help="The home folder inside servers, e.g. /home/jovyan; mounts may not cover it.",
    ).tag(config=True)
    form_template_paths = List(
        Unicode(),
        help="Folders searched first for the spawn form's Jinja templates (storage.html, "
        "profiles.html), e.g. ['/etc/fermi/templates']: copy one from "
        "fermi_jupyter/spawner/templates and change it.",
    ).tag(config=True)

    @default("hub_registry_url")
    def _hub_registry_url(self) -> str:
        return os.environ.get(
            "FERMI_REGISTRY_URL", "http://127.0.0.1:10101/services/fermi-registry/api/v1"
        )

    @default("server_registry_url")
    def _server_registry_url(self) -> str:
        return self.hub_registry_url

    @default("apply_user_options")
    def _fermi_apply_user_options(self):  # type: ignore[no-untyped-def]
        # user_options are read (strictly) and applied in start(); saying so here keeps the
        # hub from logging "unhandled user_options" on every start
        return lambda spawner, options: None

    def registry(self) -> RegistryAsUser:
        if getattr(self, "_fermi_registry", None) is None:
            self._fermi_registry = RegistryAsUser(self.hub_registry_url, self.user)
        return self._fermi_registry

    # -- the form ---------------------------------------------------------------------------
    def form_notices(self) -> list[str]:
        """More notices above the storage section (LocalFermiSpawner: limits not enforced)."""
        return []

    async def storage_form(self) -> str:
        errors = getattr(self, "_fermi_errors", {})
        # notices are said once: popped here (a refusal or a profile change sets them again)
        notices: list[str] = [*self.__dict__.pop("_fermi_notices", []), *self.form_notices()]
        prefill = ch.StorageChoices()
        down: str | None = None
        volumes: list[dict] = []
        try:
            volumes = (await self.registry().get("/volumes", limit=200))["items"]
            prefill = await self._remembered(volumes, notices)
        except RegistryUnavailable as e:
            down = e.args[0] if e.args else str(e)
        except RegistryRefused as e:
            down = e.message
        submitted = getattr(self, "_fermi_submitted", None)
        if submitted is not None:
            prefill = submitted
        return form.render_storage(
            hub_prefix=self.hub_prefix(),
            volumes=volumes,
            prefill=prefill,
            errors=errors,
            notices=notices,
            registry_down=down,
            template_paths=self.form_template_paths,
        )

    def hub_prefix(self) -> str:
        return getattr(getattr(self, "hub", None), "base_url", "/hub/")

    def default_mounts(self) -> dict[str, list[dict[str, Any]]]:
        """Pre-filled choices for a first spawn (the default profile's mounts)."""
        return {}

    async def _remembered(self, volumes: list[dict], notices: list[str]) -> ch.StorageChoices:
        """Last choices, minus what no longer exists (dropped with a notice, not an error)."""
        stored = (getattr(self, "user_options", None) or {}).get("storage")
        first_spawn = stored is None
        if first_spawn:
            stored = self._defaults_as_choices(volumes)
        last, ok = ch.lenient(stored)
        if not ok:
            notices.append(msg("Your last choices could not be read and were left out."))
        out = ch.StorageChoices()
        ids = {v["id"] for v in volumes}
        for d in last.datasets:
            ds, v = await self.registry().version(d.ref, d.version)
            if ds is None or v is None or v.get("status") != "ready":
                notices.append(
                    msg(
                        "The default dataset {ref} is not available to you and was left out.",
                        ref=d.ref,
                    )
                    if first_spawn
                    else msg(
                        "Your last choice {ref}@{version} is no longer available and was dropped.",
                        ref=d.ref,
                        version=d.version,
                    )
                )
                continue
            out.datasets.append(d)
        for c in last.volumes:
            if c.volume_id not in ids:
                notices.append(
                    msg("Your last volume {id} no longer exists and was dropped.", id=c.volume_id)
                )
                continue
            out.volumes.append(c)
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

    def remember_errors(self, exc: PlanErrors) -> None:
        self._fermi_errors = {e.field: e.message for e in exc.errors}

    def clear_errors(self) -> None:
        self._fermi_errors = {}
        self._fermi_submitted = None

    # -- choices from the form ----------------------------------------------------------------
    def storage_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        """The form's storage fields → ``{"storage": choices}`` (no I/O, so it can run in the
        synchronous ``options_from_form`` hook). Raises ``FormRefused`` for a malformed row."""
        try:
            choices = ch.from_form(formdata)
        except PlanErrors as e:
            self.remember_errors(e)
            raise FormRefused(e.errors) from None
        self._fermi_submitted = choices
        return {"storage": choices.to_json()}

    async def check_form_storage(self, options: dict[str, Any]) -> dict[str, Any]:
        """Resolve the form's choices as the start will, so refusals come back as field
        messages; create the new volume (if any) only once everything else is accepted."""
        submitted: ch.StorageChoices = (
            getattr(self, "_fermi_submitted", None) or ch.StorageChoices()
        )
        try:
            _plan, created = await resolve(
                self.registry(), submitted, self.notebook_home, create=submitted.new_volume
            )
        except PlanErrors as e:
            self.remember_errors(e)
            raise FormRefused(e.errors) from None
        if created is not None:  # remembered like any other volume: preselected next time
            submitted.volumes.append(created)
            submitted.new_volume = None
        self.clear_errors()
        return {**options, "storage": submitted.to_json()}

    # -- every start ------------------------------------------------------------------------
    def allowed_option_keys(self) -> set[str]:
        return set(OPTION_KEYS)

    async def plan_for_start(self) -> list[Mount]:
        """The mount plan of this start, from the choices alone. ``HTTPError(400)`` with the
        reasons when any is refused, so a REST caller reads them in the response."""
        options = self.user_options or {}
        try:
            if not isinstance(options, dict):
                raise PlanErrors([PlanError("user_options", msg("must be an object"))])
            unknown = sorted(str(k) for k in set(options) - self.allowed_option_keys())
            if unknown:
                raise PlanErrors(
                    [
                        PlanError(
                            "user_options",
                            msg(
                                "unknown keys {keys}; allowed: {allowed}",
                                keys=", ".join(repr(k[:40]) for k in unknown[:5]),
                                allowed=", ".join(sorted(self.allowed_option_keys())),
                            ),
                        )
                    ]
                )
            choices = ch.from_options(options.get("storage"))
            plan, _ = await resolve(self.registry(), choices, self.notebook_home)
        except PlanErrors as e:
            raise self._refusal(e) from None
        self._fermi_plan = plan
        return plan

    def _refusal(self, e: PlanErrors) -> web.HTTPError:
        lang = "en"
        handler = getattr(self, "handler", None)
        if handler is not None:
            lang = i18n.negotiate(handler.request.headers.get("Accept-Language"))
        text = "; ".join(f"{err.field}: {i18n.translate(err.message, lang)}" for err in e.errors)
        error = web.HTTPError(400, text.replace("%", "%%"))
        error.jupyterhub_message = text  # type: ignore[attr-defined]
        self.log.warning("Refused start of %s: %s", self.server_key(), text)
        return error

    # -- mount records ----------------------------------------------------------------------
    def server_key(self) -> str:
        name = getattr(self, "name", "") or ""
        return f"{self.user.name}/{name}" if name else self.user.name

    async def record_mounts(self, plan: list[Mount]) -> None:
        refs = [{"version": m.ref, "mount_path": m.mount_path} for m in plan if m.ref]
        try:
            await self.registry().send("PUT", f"/mounts/{self.server_key()}", {"mounts": refs})
        except Exception as e:  # a spawn must not fail because bookkeeping did
            self.log.warning("could not record mounts of %s: %s", self.server_key(), e)

    async def forget_mounts(self) -> None:
        try:
            await self.registry().send("DELETE", f"/mounts/{self.server_key()}")
        except Exception as e:
            self.log.warning("could not forget mounts of %s: %s", self.server_key(), e)
