"""The registry service: a traitlets Application serving the REST API with tornado.

Runs as a JupyterHub-managed service (it reads ``JUPYTERHUB_SERVICE_URL``,
``JUPYTERHUB_SERVICE_PREFIX`` and ``JUPYTERHUB_API_TOKEN``) or as an external service
registered with a hub.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.config import Application

from .. import __version__
from . import db as dbmod
from . import storage
from .context import RegistryContext
from .credentials import Vault
from .events import EventBus
from .handlers import routes
from .identity import IdentityResolver
from .jobs import JobRunner
from .jobs.tasks import TASKS
from .managers.volumes import UsageCache
from .transfers.service import TransferService


class RegistryApp(Application):
    name = "fermi-registry"
    version = __version__
    description = "The fermi_jupyter registry: volumes, datasets and versions for JupyterHub."
    classes = [IdentityResolver]

    aliases = {
        "db-url": "RegistryApp.db_url",
        "storage-root": "RegistryApp.storage_root",
        "ip": "RegistryApp.ip",
        "port": "RegistryApp.port",
        "config": "RegistryApp.config_file",
        "log-level": "Application.log_level",
    }

    config_file = Unicode("", help="A Python config file, e.g. fermi_registry_config.py").tag(
        config=True
    )
    db_url = Unicode(
        help="SQLAlchemy URL. Default: SQLite in the storage root. "
        "Production: postgresql://fermi:secret@db:5432/fermi"
    ).tag(config=True)
    storage_root = Unicode(
        help="Platform storage root holding volumes/, datasets/, objects/, e.g. /srv/fermi "
        "(on Kubernetes, where the RWX PVC is mounted). Default: ./fermi-storage"
    ).tag(config=True)
    ip = Unicode(help="Address to listen on, e.g. 127.0.0.1. Default: from the hub's URL.").tag(
        config=True
    )
    port = Integer(help="Port to listen on, e.g. 10101. Default: from the hub's URL.").tag(
        config=True
    )
    base_path = Unicode(
        help="URL prefix, e.g. /services/fermi-registry/. Default: JUPYTERHUB_SERVICE_PREFIX or /"
    ).tag(config=True)
    job_workers = Integer(2, help="Threads running registration/verify/restore jobs, e.g. 2.").tag(
        config=True
    )
    stale_after = Float(
        60.0,
        help="Seconds without a heartbeat after which another registry process recovers a "
        "job, e.g. 60.",
    ).tag(config=True)
    recover_interval = Float(30.0, help="Seconds between checks for abandoned jobs.").tag(
        config=True
    )
    credentials_key = Unicode(
        "",
        help="Fernet key(s) encrypting stored credentials, comma-separated: the first encrypts, "
        "all decrypt (rotation). Generate one with `python -c 'from cryptography.fernet import "
        "Fernet; print(Fernet.generate_key().decode())'`. Default: a key kept in "
        "<storage_root>/.fermi-credentials.key (mode 600), created on first start.",
    ).tag(config=True)
    transfer_retry_delay = Float(
        10.0,
        help="Seconds before the first retry of a failed transfer attempt; doubled for each "
        "further one, at most 300 (Kubernetes Jobs back off alike), e.g. 10.",
    ).tag(config=True)
    transfer_allow_loopback = Bool(
        False,
        help="Let transfers reach addresses of this machine (127.0.0.0/8, localhost). Off: a "
        "transfer must not read the registry's neighbours into a volume. On for tests and demos.",
    ).tag(config=True)
    metrics_require_auth = Bool(
        False, help="Require an admin token for /metrics (open by default, like exporters)."
    ).tag(config=True)

    @default("storage_root")
    def _default_storage_root(self) -> str:
        return os.path.abspath("fermi-storage")

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(self.storage_root) / 'fermi-registry.sqlite'}"

    @default("base_path")
    def _default_base_path(self) -> str:
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        return prefix if prefix.endswith("/") else prefix + "/"

    def _service_url(self) -> tuple[str, int]:
        url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
        return url.hostname or "127.0.0.1", url.port or 10101

    def initialize(self, argv: list[str] | None = None) -> None:  # type: ignore[override]
        super().initialize(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
        host, port = self._service_url()
        self.ip = self.ip or host
        self.port = self.port or port
        self.layout = storage.StorageLayout(Path(self.storage_root))
        self.layout.ensure()
        self.engine = dbmod.make_engine(self.db_url)
        dbmod.upgrade(self.engine)
        dbmod.analyze(self.engine)
        self.sessions = dbmod.make_sessionmaker(self.engine)
        self.bus = EventBus()
        self.runner = JobRunner(
            self.sessions,
            self.layout,
            self.bus.publish,
            workers=self.job_workers,
            stale_after=self.stale_after,
        )
        vault = Vault.from_config(
            self.credentials_key, Path(self.storage_root) / ".fermi-credentials.key"
        )
        self.transfers = TransferService(
            self.sessions,
            self.layout,
            self.bus.publish,
            vault,
            retry_delay=self.transfer_retry_delay,
        )
        self.transfers.runner = self.runner
        TASKS["transfer"] = self.transfers.run
        hub_auth = HubOAuth(parent=self, cache_max_age=60)
        identities = IdentityResolver(
            parent=self,
            hub_api_url=os.environ.get("JUPYTERHUB_API_URL", ""),
            api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
        )
        self.ctx = RegistryContext(
            sessions=self.sessions,
            layout=self.layout,
            runner=self.runner,
            bus=self.bus,
            identities=identities,
            hub_auth=hub_auth,
            usage=UsageCache(),
            base_path=self.base_path,
            metrics_require_auth=self.metrics_require_auth,
            vault=vault,
            transfers=self.transfers,
            transfer_allow_loopback=self.transfer_allow_loopback,
        )

    def make_app(self) -> web.Application:
        return web.Application(
            routes(self.base_path),
            fermi=self.ctx,
            cookie_secret=os.urandom(32),
            xsrf_cookies=False,  # HubOAuth checks XSRF on cookie-authenticated requests itself
            log_function=self._log_request,
        )

    def _log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        level = self.log.info if status < 400 else self.log.warning
        if status >= 500:
            level = self.log.error
        ms = 1000.0 * handler.request.request_time()
        level("%d %s %s %.1fms", status, handler.request.method, handler.request.uri, ms)

    async def serve(self) -> None:
        server = HTTPServer(self.make_app(), xheaders=True)
        server.listen(self.port, self.ip)
        recovered = self.runner.recover() + self.transfers.sweep()
        if recovered:
            self.log.warning("recovered %d job(s) left by a stopped registry", recovered)
        url = f"http://{self.ip}:{self.port}{self.base_path}"
        self.log.info(
            "fermi registry %s listening on %s (database %s, storage %s)",
            __version__,
            url,
            self.engine.url.render_as_string(hide_password=True),
            self.storage_root,
        )
        print(f"fermi-registry: listening on {url}api/v1/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # a hub-managed service may inherit "SIGINT ignored"; install real handlers
            loop.add_signal_handler(sig, stop.set)
        recover_task = asyncio.create_task(self._recover_periodically())
        await stop.wait()
        self.log.info("fermi registry stopping")
        recover_task.cancel()
        server.stop()
        self.runner.shutdown(wait=False)

    async def _recover_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.recover_interval)
            try:
                self.runner.recover()
                self.transfers.sweep()
            except Exception:
                self.log.exception("job recovery failed")

    def start(self) -> None:
        asyncio.run(self.serve())


def main(argv: list[str] | None = None) -> None:
    app = RegistryApp.instance()
    try:
        app.initialize(argv)
    except Exception as e:  # a readable line, not a traceback, for bad config
        print(f"fermi-registry: cannot start: {e}", file=sys.stderr)
        sys.exit(2)
    app.start()


if __name__ == "__main__":
    main()
