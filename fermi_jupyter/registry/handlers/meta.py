"""Unauthenticated plumbing: OpenAPI document, health, Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

from ... import __version__
from .. import metrics
from ..errors import Forbidden
from .base import BaseHandler

OPENAPI = Path(__file__).parent.parent / "openapi.json"


class OpenAPIHandler(BaseHandler):
    public = True

    def get(self) -> None:
        self.finish(OPENAPI.read_bytes())


class RootHandler(BaseHandler):
    """The service's own URL (JupyterHub checks it when the service starts): where the API is."""

    public = True

    def get(self) -> None:
        self.write_json({"name": "fermi-registry", "version": __version__,
                         "api": f"{self.ctx.base_path}api/v1/"})  # fmt: skip


class HealthHandler(BaseHandler):
    public = True

    async def get(self) -> None:
        await self.call(lambda db: db.connection().exec_driver_sql("SELECT 1"))
        self.write_json({"status": "ok", "version": __version__, "worker": self.ctx.runner.worker})


class MetricsHandler(BaseHandler):
    """Open by default like most exporters; set ``metrics_require_auth`` to need an admin."""

    async def prepare(self) -> None:
        if self.ctx.metrics_require_auth:
            await super().prepare()
            if not self.identity.admin:
                raise Forbidden("metrics are for admins")

    def get(self) -> None:
        self.set_header("Content-Type", metrics.CONTENT_TYPE)
        self.finish(metrics.exposition())
