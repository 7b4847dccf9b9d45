"""``LocalFermiSpawner``: one machine, the same mount plan and profiles, in a bubblewrap
sandbox that holds only what the server needs (``sandbox.py``), as an unprivileged host user,
with the profile's CPU and memory limits in a cgroup (``cgroups.py``)."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from tornado import web
from traitlets import Integer, List, Unicode, default

from .. import i18n
from ..domain.mount_rules import PlanError, PlanErrors
from ..domain.mounts import Mount, encode
from ..i18n import msg
from . import cgroups, runtime, sandbox
from .local_profiles import LocalProfile, chosen, gpus_here, local_profiles, render_profiles
from .mixin import FormRefused, StorageMountsMixin
from .profiles import load_profiles

MEMORY_EVENTS = "/run/fermi/memory-events"  # where a server finds its group's OOM counter
_hierarchy: dict[str, Any] = {}


def hierarchy() -> cgroups.Hierarchy | None:
    """Detected once per hub process."""
    if "h" not in _hierarchy:
        _hierarchy["h"] = cgroups.detect()
    return _hierarchy["h"]


class LocalFermiSpawner(StorageMountsMixin, LocalProcessSpawner):
    storage_root = Unicode(
        help="The platform storage root on this machine (the registry's), e.g. "
        "/var/lib/fermi-jupyter/storage."
    ).tag(config=True)
    home_dir_template = Unicode(
        "/var/lib/fermi-jupyter/homes/{username}",
        help="Where each user's persistent home lives on the host, e.g. "
        "/var/lib/fermi-jupyter/homes/{username}; it is the server's home (notebook_home) and "
        "the folder Lab opens in.",
    ).tag(config=True)
    server_user = Unicode(
        "fermi-server",
        help="The unprivileged host user servers run as when the hub runs as root, e.g. "
        "fermi-server (scripts/setup.sh creates it). Files written to volumes and homes are "
        "owned by it. When the hub is not root, servers run as the hub's own user.",
    ).tag(config=True)
    server_python = Unicode(
        help="The Python that runs servers, e.g. /opt/fermi/server-venv/bin/python; it needs "
        "jupyterhub, jupyterlab and fermi_jupyter, readable by server_user. Default: "
        "$FERMI_SERVER_PYTHON, else the hub's own Python."
    ).tag(config=True)
    sandbox_uid = Integer(
        1000, help="The uid the server sees itself as inside the sandbox, e.g. 1000."
    ).tag(config=True)
    protected_paths = List(
        Unicode(),
        help="Host paths holding the hub's state (e.g. ['/var/lib/fermi-jupyter']): a sandbox "
        "that would see any of them is refused. The storage root, the cookie secret file "
        "and a SQLite hub database are always protected.",
    ).tag(config=True)
    extra_read_only = List(
        Unicode(),
        help="More host folders servers may read, e.g. ['/opt/models']; never one that "
        "holds state (checked against protected_paths at every start).",
    ).tag(config=True)
    profiles_dir = Unicode(
        help="A folder of profile YAML files (kubespawner_profiles/), e.g. /etc/fermi/profiles: "
        "the same cards as on Kubernetes; CPU and memory limits are enforced with cgroups, "
        "GPU profiles are disabled on a machine without GPUs."
    ).tag(config=True)

    @default("server_python")
    def _server_python_default(self) -> str:
        return os.environ.get("FERMI_SERVER_PYTHON") or sys.executable

    @default("notebook_dir")
    def _notebook_dir_default(self) -> str:
        return self.notebook_home  # Lab opens in the persistent home

    @default("popen_kwargs")
    def _popen_kwargs_default(self) -> dict:
        return {"cwd": "/"}

    # -- profiles -----------------------------------------------------------------------------
    def profiles(self) -> list[LocalProfile]:
        if not self.profiles_dir:
            return []
        return local_profiles(load_profiles(Path(self.profiles_dir)), len(gpus_here()))

    def _options_form_default(self):  # type: ignore[no-untyped-def]
        async def render(spawner: LocalFermiSpawner) -> str:
            selected = (spawner.user_options or {}).get("profile")
            cards = render_profiles(
                spawner.profiles(),
                selected if isinstance(selected, str) else None,
                hierarchy=hierarchy(),
                error=getattr(spawner, "_fermi_errors", {}).get("profile"),
                template_paths=spawner.form_template_paths,
            )
            return cards + await spawner.storage_form()

        return render

    @default("options_from_form")
    def _fermi_options_from_form_default(self):  # type: ignore[no-untyped-def]
        return self._fermi_options_from_form

    def _fermi_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        options = self.storage_options_from_form(formdata)
        profile = (formdata.get("profile") or [""])[0]
        if profile:
            options["profile"] = profile
        return options

    async def run_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        options = super().run_options_from_form(formdata)
        try:
            self._profile_for(options)
        except PlanErrors as e:
            self.remember_errors(e)
            raise FormRefused(e.errors) from None
        return await self.check_form_storage(options)

    def _profile_for(self, options: dict[str, Any]) -> LocalProfile | None:
        profiles = self.profiles()
        slug = options.get("profile")
        if slug is not None and not isinstance(slug, str):
            raise PlanErrors([PlanError("profile", msg("must be a profile name"))])
        if not profiles:
            if slug:
                raise PlanErrors([PlanError("profile", msg("no profiles are offered here"))])
            return None
        profile = chosen(profiles, slug)
        if profile is None:
            raise PlanErrors(
                [PlanError("profile", msg("profile {slug} is not available", slug=str(slug)[:60]))]
            )
        if profile.disabled is not None:
            raise PlanErrors([PlanError("profile", profile.disabled)])
        return profile

    # -- the start ----------------------------------------------------------------------------
    def _server_ids(self) -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.geteuid(), os.getegid()
        try:
            entry = pwd.getpwnam(self.server_user)
        except KeyError:
            raise sandbox.SandboxError(
                msg(
                    "the host user {user} that servers run as does not exist: create it with "
                    "scripts/setup.sh (useradd --system {user}) or set "
                    "LocalFermiSpawner.server_user",
                    user=self.server_user,
                )
            ) from None
        if entry.pw_uid == 0:
            raise sandbox.SandboxError(msg("servers may not run as root"))
        return entry.pw_uid, entry.pw_gid

    def _protected(self) -> list[str]:
        hub = self.config.get("JupyterHub", {})
        paths = [*self.protected_paths, self.storage_root]
        secret = hub.get("cookie_secret_file", "jupyterhub_cookie_secret")
        if isinstance(secret, str):
            paths.append(secret)
        db = hub.get("db_url", "sqlite:///jupyterhub.sqlite")
        if isinstance(db, str) and db.startswith("sqlite:///"):
            paths.append(db[len("sqlite:///") :])
        return [os.path.abspath(p) for p in paths if p]

    async def start(self) -> Any:
        plan = await self.plan_for_start()
        try:
            profile = self._profile_for(self.user_options or {})
        except PlanErrors as e:
            raise self._refusal(e) from None
        try:  # a mount whose folder is missing or was swapped for a link: the user's to fix
            sandbox.check_sources(plan, self.storage_root)
        except sandbox.SandboxError as e:
            raise self._refusal(PlanErrors([PlanError("mounts", e.args[0])])) from None
        try:
            uid, gid = self._server_ids()
            rt = await asyncio.to_thread(runtime.probe, self.server_python, uid, gid)
            home = Path(self.home_dir_template.format(username=self.user.name))
            binds = sandbox.storage_binds(plan, self.storage_root)
            sandbox.check_protected(
                [*sandbox.SYSTEM, *rt.paths, *self.extra_read_only, str(home)]
                + [b.source for b in binds],
                self._protected(),
            )
        except sandbox.SandboxError as e:  # the admin's to fix: say what, without a traceback
            self.log.error("Not starting %s: %s", self._log_name, e)
            error = web.HTTPError(500, str(e).replace("%", "%%"))
            error.jupyterhub_message = str(e)  # type: ignore[attr-defined]
            raise error from None
        drop = _dropper(uid, gid)
        sandbox.prepare_home(home, uid, gid)
        sandbox.own_volume_roots(plan, self.storage_root, uid, gid)
        _group, files = self._make_group(profile)
        devices = gpus_here()[: profile.gpus] if profile and profile.gpus else []
        if devices:
            devices += [d for d in ("/dev/nvidiactl", "/dev/nvidia-uvm") if os.path.exists(d)]
        prefix = sandbox.bwrap_args(
            binds,
            home_source=str(home),
            home=self.notebook_home,
            runtime=[*rt.paths, *self.extra_read_only],
            uid=self.sandbox_uid,
            gid=self.sandbox_uid,
            files=files,
            devices=devices,
            bwrap=shutil.which("bwrap") or "bwrap",
        )
        self._fermi_env = self._sandbox_env(plan, rt, profile)
        boot = [rt.python, "-m", "fermi_jupyter.spawner.inside.boot", "--"]
        # kernels talk over unix sockets in the user's home, not TCP ports every process on
        # this machine (every other user's sandbox too) could connect to and listen on
        server = [rt.python, "-m", "jupyterhub.singleuser", "--KernelManager.transport=ipc"]
        self.cmd = [*prefix, *boot, *server]
        self._fermi_drop = drop
        try:
            result = await super().start()
        except BaseException:
            self._remove_group()
            raise
        await self.record_mounts(plan)
        return result

    def _sandbox_env(
        self, plan: list[Mount], rt: runtime.Runtime, profile: LocalProfile | None
    ) -> dict[str, str]:
        lang = "en"
        if getattr(self, "handler", None) is not None:
            lang = i18n.negotiate(self.handler.request.headers.get("Accept-Language"))
        env = {
            "FERMI_MOUNTS": encode(plan),
            "FERMI_REGISTRY_URL": self.server_registry_url,
            "FERMI_LANG": lang,
            "PATH": f"{rt.bin}:/usr/local/bin:/usr/bin:/bin",
        }
        group = getattr(self, "_fermi_group", None)
        if group is not None and group.oom_file() is not None:
            env["FERMI_MEMORY_EVENTS"] = MEMORY_EVENTS
        if profile is not None and profile.limits.memory is not None:
            env["FERMI_MEMORY_LIMIT"] = str(profile.limits.memory)
        return env

    def _make_group(
        self, profile: LocalProfile | None
    ) -> tuple[cgroups.Group | None, list[tuple[str, str]]]:
        self._fermi_group = None
        limits = profile.limits if profile else cgroups.Limits()
        h = hierarchy()
        if not limits:
            return None, []
        if h is None:
            self.log.warning(
                "CPU and memory limits of %s are not enforced: no writable cgroup hierarchy",
                self._log_name,
            )
            return None, []
        if h.missing:
            self.log.warning(
                "%s limits of %s are not enforced here", "/".join(h.missing), self._log_name
            )
        group = h.create(cgroups.group_name(self.user.name, self.name or ""), limits)
        self._fermi_group = group
        oom = group.oom_file()
        return group, [(str(oom), MEMORY_EVENTS)] if oom else []

    def _remove_group(self) -> None:
        group = getattr(self, "_fermi_group", None)
        if group is not None and group.remove():
            self._fermi_group = None

    def make_preexec_fn(self, name: str):  # type: ignore[no-untyped-def,override]
        group = getattr(self, "_fermi_group", None)
        drop = getattr(self, "_fermi_drop", None)

        def preexec() -> None:  # in the child, before bubblewrap starts
            if group is not None:
                group.join()
            if drop is not None:
                drop()

        return preexec

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        for key in ("PYTHONPATH", "VIRTUAL_ENV", "CONDA_ROOT", "CONDA_DEFAULT_ENV"):
            env.pop(key, None)  # the hub's, not the server's
        env.update(getattr(self, "_fermi_env", {}))
        return env

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env["USER"] = self.user.name
        env["HOME"] = self.notebook_home
        env["SHELL"] = "/bin/bash"
        return env

    async def poll(self) -> int | None:
        status = await super().poll()
        if status is not None:
            self._note_oom()
        return status

    def _note_oom(self) -> None:
        group = getattr(self, "_fermi_group", None)
        if group is not None and group.oom_kills() > 0:
            self._fermi_notices = [
                msg(
                    "Your last server ran out of memory (the limit of its profile): processes "
                    "were stopped. Choose a larger profile or use less memory."
                )
            ]

    async def stop(self, now: bool = False) -> None:
        try:
            await super().stop(now=now)
        finally:  # the versions are free again even if the stop itself failed
            self._note_oom()
            await asyncio.to_thread(self._remove_group)  # waits for the last processes to go
            await self.forget_mounts()

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        group = getattr(self, "_fermi_group", None)
        if group is not None:
            state["fermi_cgroup"] = group.dirs["memory" if "memory" in group.dirs else "cpu"].name
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        h = hierarchy()
        if state.get("fermi_cgroup") and h is not None:
            self._fermi_group = h.group(state["fermi_cgroup"])


def _dropper(uid: int, gid: int):  # type: ignore[no-untyped-def]
    """A function for the child process: become ``uid``/``gid`` with no other groups."""
    if (uid, gid) == (os.geteuid(), os.getegid()):
        return None

    def drop() -> None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return drop
