"""``LocalFermiSpawner``: one machine, the same mount plan, in a bubblewrap sandbox."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Integer, List, Unicode, default

from .mixin import StorageMountsMixin
from .plan import PlanErrors, to_env
from .sandbox import bwrap_args


class LocalFermiSpawner(StorageMountsMixin, SimpleLocalProcessSpawner):
    storage_root = Unicode(
        help="The platform storage root on this machine, e.g. /srv/fermi (the registry's)."
    ).tag(config=True)
    sandbox_uid = Integer(1000, help="The uid the server runs as inside the sandbox.").tag(
        config=True
    )
    extra_read_only = List(
        Unicode(), help="More host paths the sandbox may read, e.g. ['/work/main'] for a checkout."
    ).tag(config=True)

    def _options_form_default(self):  # type: ignore[no-untyped-def]
        async def render(spawner: LocalFermiSpawner) -> str:
            return await spawner.storage_form()

        return render

    @default("options_from_form")
    def _fermi_options_from_form_default(self):  # type: ignore[no-untyped-def]
        return self._fermi_options_from_form  # options_from_form is a trait: set its default

    async def _fermi_options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        try:
            options = await self.storage_options(formdata)
        except PlanErrors as e:
            self.remember_errors(e)
            raise
        self.clear_errors()
        return options

    async def start(self) -> Any:
        plan = self.plan()
        home = Path(self.home_dir_template.format(username=self.user.name))
        home.mkdir(parents=True, exist_ok=True)
        for m in plan:  # bwrap needs the sources to exist
            if not (Path(self.storage_root) / m.source).exists():
                raise RuntimeError(f"{m.source} is missing from the storage root")
        prefix = bwrap_args(
            plan,
            Path(self.storage_root),
            self.notebook_home,
            home,
            uid=self.sandbox_uid,
            gid=self.sandbox_uid,
            extra_ro=self.extra_read_only,
            bwrap=shutil.which("bwrap") or "bwrap",
        )
        self.environment = {
            **self.environment,
            "FERMI_MOUNTS": to_env(plan),
            "FERMI_REGISTRY_URL": self.server_registry_url,
            "HOME": self.notebook_home,
        }
        # the server's root is the sandbox's: /datasets/…, /workspace and home are all in reach
        self.notebook_dir = "/"
        if not hasattr(self, "_fermi_cmd"):
            self._fermi_cmd = list(self.cmd) or [sys.executable, "-m", "jupyterhub.singleuser"]
        # LocalProcessSpawner runs cmd + get_args(): the sandbox goes in front
        self.cmd = [*prefix, *self._fermi_cmd]
        result = await super().start()
        await self.record_mounts()
        return result

    async def stop(self, now: bool = False) -> None:
        try:
            await super().stop(now=now)
        finally:  # the versions are free again even if the stop itself failed
            await self.forget_mounts()

    def make_preexec_fn(self, name: str):  # type: ignore[no-untyped-def,override]
        return None  # the sandbox drops privileges; the hub user starts bwrap

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env["USER"] = self.user.name
        env["HOME"] = self.notebook_home
        env["SHELL"] = "/bin/bash"
        return env
