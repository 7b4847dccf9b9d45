"""``FermiExtension``: wiring only — traits, the workspace manager, the event relay, routes."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, Unicode, default

from ..workspace.events import EventRelay
from ..workspace.manager import WorkspaceManager
from ..workspace.progress import ProgressTracker
from .handlers import NO_ROUTE, ROUTES


class FermiExtension(ExtensionApp):
    name = "fermi_jupyter"

    registry_url = Unicode(
        help="Registry API URL, e.g. http://hub:8000/services/fermi-registry/api/v1. "
        "Default: $FERMI_REGISTRY_URL, set by the spawner."
    ).tag(config=True)
    registry_token = Unicode(
        help="Token for the registry. Default: this server's own $JUPYTERHUB_API_TOKEN, so "
        "every call is made as the server's owner and never as anyone else."
    ).tag(config=True)
    stall_after = Float(
        60.0,
        help="Seconds without progress after which running work is reported as stalled "
        "(progress.stalled_since). e.g. c.FermiExtension.stall_after = 120",
    ).tag(config=True)
    search_budget = Int(
        50_000,
        help="Entries one page of a volume name search (or a folder summary) may look at "
        "before it answers truncated with a cursor to go on. e.g. 200000 on fast disks",
    ).tag(config=True)
    search_seconds = Float(
        2.0,
        help="Seconds one page of a volume name search may run before it answers with a "
        "cursor to go on. e.g. c.FermiExtension.search_seconds = 5",
    ).tag(config=True)
    event_linger = Float(
        60.0,
        help="Seconds the shared upstream event stream stays open after the last tab left, so "
        "a reloading tab resumes without missing events. e.g. 0 to close at once",
    ).tag(config=True)

    @default("registry_url")
    def _url(self) -> str:
        return os.environ.get("FERMI_REGISTRY_URL", "")

    @default("registry_token")
    def _token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    def initialize_settings(self) -> None:
        root = self.serverapp.root_dir if self.serverapp is not None else None
        self.manager = WorkspaceManager(
            lambda: (self.registry_url, self.registry_token),
            root_dir=root,
            tracker=ProgressTracker(stall_after=self.stall_after),
            search_budget=self.search_budget,
            search_seconds=self.search_seconds,
        )
        self.relay = EventRelay(self.manager, linger=self.event_linger)
        self.settings["fermi"] = self

    def initialize_handlers(self) -> None:
        routes = [*ROUTES, NO_ROUTE]
        self.handlers.extend((f"/api/fermi/{path}", handler) for path, handler in routes)

    async def stop_extension(self) -> None:
        self.relay.stop()
        await self.manager.aclose()
