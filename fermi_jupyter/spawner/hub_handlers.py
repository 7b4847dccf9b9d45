"""A hub endpoint for the spawn form's dataset picker: ``{hub}/fermi/datasets?q=``.

Same origin as the form (the hub's cookie identifies the user); the search runs in the
registry as that user, so the page stays small however many datasets exist.
"""

from __future__ import annotations

import json

from jupyterhub.handlers import BaseHandler
from tornado import web

from .hubapi import RegistryAsUser, RegistryDown

LIMIT = 20


class DatasetSearchHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        user = self.current_user
        reg = RegistryAsUser(self.settings["fermi_registry_url"], user, token_seconds=120)
        q = self.get_argument("q", "").strip() or None
        try:
            body = await reg.get("/datasets", q=q, limit=LIMIT)
        except RegistryDown as e:
            self.set_status(502)
            self.finish(json.dumps({"error": "registry-down", "message": str(e)}))
            return
        items = [
            {
                "id": d["id"],
                "name": d["name"],
                "owner": d["owner"],
                "latest": d["latest"],
                "visibility": d["visibility"],
            }
            for d in body["items"]
        ]
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"items": items}))


class VersionListHandler(BaseHandler):
    """Ready versions of one dataset, for the version picker (newest first)."""

    @web.authenticated
    async def get(self, dataset_id: str) -> None:
        reg = RegistryAsUser(self.settings["fermi_registry_url"], self.current_user, 120)
        try:
            body = await reg.get(f"/datasets/{dataset_id}/versions", status="ready", limit=100)
        except RegistryDown as e:
            self.set_status(502)
            self.finish(json.dumps({"error": "registry-down", "message": str(e)}))
            return
        if body is None:
            raise web.HTTPError(404, "no such dataset")
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "items": [
                        {
                            "number": v["number"],
                            "aliases": v["aliases"],
                            "files": v["files"],
                            "bytes": v["bytes"],
                        }
                        for v in body["items"]
                    ]
                }
            )
        )


def setup_hub(c, registry_url: str) -> None:  # type: ignore[no-untyped-def]
    """Call from jupyterhub_config.py: adds the picker's endpoint and tells it the registry."""
    c.JupyterHub.extra_handlers = [
        *c.JupyterHub.get("extra_handlers", []),
        (r"/fermi/datasets", DatasetSearchHandler),
        (r"/fermi/datasets/(ds-[a-z0-9]+)/versions", VersionListHandler),
    ]
    c.JupyterHub.tornado_settings = {
        **c.JupyterHub.get("tornado_settings", {}),
        "fermi_registry_url": registry_url,
    }
