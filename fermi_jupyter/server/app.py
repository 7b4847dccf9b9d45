"""``FermiExtension``: wiring only — traits, the client, and the routes under api/fermi."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode, default

from ..client import RegistryClient
from .handlers import ROUTES


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

    @default("registry_url")
    def _url(self) -> str:
        return os.environ.get("FERMI_REGISTRY_URL", "")

    @default("registry_token")
    def _token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    def make_client(self) -> RegistryClient:
        return RegistryClient(self.registry_url or None, self.registry_token or None)

    def initialize_settings(self) -> None:
        self.settings["fermi"] = self

    def initialize_handlers(self) -> None:
        self.handlers.extend((f"/api/fermi/{path}", handler) for path, handler in ROUTES)
