"""The registry service: a traitlets Application serving the REST API with tornado.

Runs as a JupyterHub-managed service (it reads ``JUPYTERHUB_SERVICE_URL``,
``JUPYTERHUB_SERVICE_PREFIX`` and ``JUPYTERHUB_API_TOKEN``) or as an external service
registered with a hub.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from sqlalchemy import Engine
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.config import Application

from .. import __version__
from ..domain.states import JobKind
from . import db as dbmod
from . import metrics, storage
from .context import RegistryContext
from .credentials import Vault
from .events import EventBus
from .handlers import routes
from .handlers.base import NotFoundHandler
from .identity import IdentityResolver
from .jobs import JobRunner
from .jobs.handoff import JobHandoff, listen, wake_pipe
from .jobs.tasks import transfer_task
from .managers.volumes import UsageCache
from .processes import Supervisor, available_cores, name_process
from .sessionpool import SessionPool
from .storage import flushing as storage_flushing
from .storage import objects as storage_objects
from .storage import pool as storage_pool
from .storage.hashing import SMALL
from .transfers.config import TransferBackendConfig
from .transfers.service import TransferService

MAX_BODY = 1 << 20  # no request body of this API comes near 1 MiB
JOB_PROCESS_NAME = "fermi-jobs"  # what ps and /proc/PID/comm show for the job process


class RegistryApp(Application, TransferBackendConfig):
    name = "fermi-registry"
    version = __version__
    description = "The fermi_jupyter registry: volumes, datasets and versions for JupyterHub."
    classes = [IdentityResolver]

    subcommands = {
        "gc": (
            "fermi_jupyter.registry.sweeper.GcApp",
            "Give back space nothing uses (objects, unfinished snapshots, temp files).",
        )
    }

    aliases = {
        "db-url": "RegistryApp.db_url",
        "storage-root": "RegistryApp.storage_root",
        "ip": "RegistryApp.ip",
        "port": "RegistryApp.port",
        "config": "RegistryApp.config_file",
        "log-level": "Application.log_level",
        "processes": "RegistryApp.processes",
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
    storage_nice = Integer(
        10,
        help="Niceness of the job process (see job_process) and of the processes that hash "
        "and copy files for jobs, e.g. 10: on busy cores, requests are answered first and "
        "registrations take the rest. 0 = the registry's own priority.",
    ).tag(config=True)
    storage_object_min = Integer(
        64 * 1024,
        help="Files of at least this many bytes are de-duplicated across every dataset, as "
        "objects of the content-addressed store, e.g. 65536. A smaller file stays its "
        "version's own, linked to the version before it when unchanged: naming it in the "
        "store would cost a second directory entry, most of a small file's cost. 0 = every "
        "non-empty file is an object; at most 4 MiB.",
    ).tag(config=True)
    storage_flush_interval = Float(
        0.2,
        help="Seconds between flushes of the dataset store's filesystem while a snapshot "
        "copies, e.g. 0.2: the disk writes during the copy, not all after it. 0 = only the "
        "one flush that ends every snapshot.",
    ).tag(config=True)
    stale_after = Float(
        60.0,
        help="Seconds without a heartbeat after which another registry process recovers a "
        "job, e.g. 60.",
    ).tag(config=True)
    recover_interval = Float(30.0, help="Seconds between checks for abandoned jobs.").tag(
        config=True
    )
    job_max_attempts = Integer(
        2,
        help="Attempts a job may fail by itself (an internal error, a result that could not be "
        "recorded) before it fails for good, e.g. 2. Restarts of the registry never count; a "
        "source that cannot be read fails at once.",
    ).tag(config=True)
    job_max_crashes = Integer(
        3,
        help="Times the registry may die while running the same job before that job is parked "
        "(failed, with a message), so one tree that crashes the registry cannot crash-loop it, "
        "e.g. 3. Stopping the registry on purpose (a deploy, a node drain) never counts.",
    ).tag(config=True)
    job_commit_retry_seconds = Float(
        60.0,
        help="How long a job keeps retrying to record its result while the database is away "
        "(a restart, a failover), e.g. 60. After that the job is retried later.",
    ).tag(config=True)
    job_pause_dir = Unicode(
        "",
        help="Fault drills only: a folder of pause points (see fermi_jupyter/registry/jobs/"
        "pause.py) that hold a job at an exact moment, e.g. /tmp/fermi-drill. Empty: off.",
    ).tag(config=True)
    gc_interval = Float(
        3600.0,
        help="Seconds between sweeps giving back space nothing uses (as `fermi-registry gc`), "
        "e.g. 3600; 0 turns the sweep off.",
    ).tag(config=True)
    gc_min_age = Float(
        3600.0, help="Seconds: the sweep leaves alone anything younger, e.g. 3600."
    ).tag(config=True)
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
    transfer_python = Unicode(
        sys.executable,
        help="The Python that runs transfers (python -m fermi_jupyter.transfers.run), with "
        "fermi_jupyter[transfers] installed. A registry running as root starts it as the "
        "volume's owner, so that uid must be able to read it: a Python under /root is not. "
        "E.g. /opt/fermi/venv/bin/python. Default: the registry's own.",
    ).tag(config=True)
    transfer_user = Unicode(
        "nobody",
        help="The host user (name or uid) a transfer runs as when the registry is root and no "
        "volume owner is known: a volume whose folder is still root's (handed to this user for "
        "a download) or a stored dataset version. Never root. E.g. fermi-server (the local "
        "servers' user, so what it downloads is theirs).",
    ).tag(config=True)
    transfer_allow_loopback = Bool(
        False,
        help="Let transfers reach addresses of this machine (127.0.0.0/8, localhost). Off: a "
        "transfer must not read the registry's neighbours into a volume. On for tests and demos.",
    ).tag(config=True)
    metrics_require_auth = Bool(
        False, help="Require an admin token for /metrics (open by default, like exporters)."
    ).tag(config=True)
    processes = Integer(
        0,
        help="Serving processes sharing the port (SO_REUSEPORT), each with its own event loop "
        "and database pool, e.g. 2. 0 means one per CPU core. On Kubernetes, run one or two "
        "per pod and scale with Deployment replicas.",
    ).tag(config=True)
    job_process = Bool(
        True,
        help="With several serving processes, run this registry's jobs (registrations, "
        "verifications, restores, transfers) in one more process of their own, at "
        "storage_nice, so that on busy cores requests are answered first. False: every "
        "serving process runs jobs in its own threads. A single process always does.",
    ).tag(config=True)
    db_threads = Integer(
        8,
        help="Threads per process running requests' database work, so the event loop never "
        "waits on the database, e.g. 8. Also the most database connections requests hold at "
        "once per process.",
    ).tag(config=True)
    db_pool_recycle = Float(
        1800.0,
        help="Seconds after which a pooled database connection is replaced, e.g. 1800. "
        "Connections are not pinged on every checkout; a dropped one is retried once.",
    ).tag(config=True)
    volume_usage_max_age = Float(
        60.0,
        help="Seconds a volume's usage figure in volume lists may be old, at most, e.g. 60. "
        "A figure is recounted once it is older than 100 times what counting it took (before "
        "the list is sent when that was under 5 ms, in the background otherwise), so small "
        "volumes are recounted within seconds (volume_usage_min_age) and only the largest "
        "wait this long. Opening one volume always recounts it.",
    ).tag(config=True)
    volume_usage_min_age = Float(
        2.0,
        help="Seconds a volume's usage figure is served before a recount, at least, e.g. 2.",
    ).tag(config=True)
    event_poll_interval = Float(
        0.25,
        help="Seconds between reads of the shared event log for events published by other "
        "registry processes, e.g. 0.25 (this process's own events are sent at once).",
    ).tag(config=True)
    event_gather = Float(
        0.02,
        help="Seconds the event writer waits after an event for more, to store them in one "
        "transaction, e.g. 0.02: with many jobs running, fewer commits, and a progress report "
        "superseded within that time is not stored at all. Subscribers get each event that "
        "much later. 0 = store each at once.",
    ).tag(config=True)
    event_retention = Integer(
        50_000,
        help="Events kept for clients that reconnect with Last-Event-ID, e.g. 50000; a client "
        "that missed more gets a snapshot instead.",
    ).tag(config=True)
    cookie_secret = Unicode(
        help="Secret signing the OAuth cookie; every process and replica must share it. "
        "Default: derived from the service's hub token (FERMI_REGISTRY_COOKIE_SECRET overrides)."
    ).tag(config=True)

    @default("cookie_secret")
    def _default_cookie_secret(self) -> str:
        if os.environ.get("FERMI_REGISTRY_COOKIE_SECRET"):
            return os.environ["FERMI_REGISTRY_COOKIE_SECRET"]
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        if token:  # the same in every process and replica, secret like the token itself
            return hashlib.sha256(b"fermi-registry-cookie\0" + token.encode()).hexdigest()
        return os.urandom(32).hex()  # made before forking: shared by this host's processes

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
        if self.subapp is not None:  # fermi-registry gc
            return
        if self.config_file:
            self.load_config_file(self.config_file)
        host, port = self._service_url()
        self.ip = self.ip or host
        self.port = self.port or port
        self.processes = self.processes or available_cores()
        storage_pool.NICE = max(0, min(19, self.storage_nice))
        storage_objects.OBJECT_MIN = max(0, min(SMALL, self.storage_object_min))
        storage_flushing.EVERY = max(0.0, self.storage_flush_interval)
        self.cookie_secret  # noqa: B018 (fixed now, before any fork)
        self.layout = storage.StorageLayout(Path(self.storage_root))
        self.layout.ensure()
        engine = dbmod.make_engine(self.db_url)
        dbmod.upgrade(engine)
        dbmod.analyze(engine)
        engine.dispose()
        self.build()

    def build(self, wake_fd: int | None = None) -> None:
        """Everything one process owns: engines, pools, event bus, job runner. Called once per
        process (after the fork when there are several). ``wake_fd``: a serving process whose
        jobs run in the job process, woken through this end of the pipe."""
        self.engine = dbmod.make_engine(
            self.db_url, pool_size=self.db_threads + 2, pool_recycle=self.db_pool_recycle
        )
        self.sessions = dbmod.make_sessionmaker(self.engine)
        self.bus = EventBus(
            self.engine,
            poll_interval=self.event_poll_interval,
            retention=self.event_retention,
            gather=max(0.0, self.event_gather),
        )
        self.runner: JobRunner | JobHandoff
        self.job_engine: Engine | None = None
        if wake_fd is not None:  # a cancel is a request's write: the request pool serves it
            self.runner = JobHandoff(self.sessions, wake_fd)
        else:
            # the job runner's own engine pings before use: a long job must survive a restart
            self.job_engine = dbmod.make_engine(
                self.db_url, pool_size=self.job_workers + 2, pre_ping=True
            )
            self.runner = JobRunner(
                dbmod.make_sessionmaker(self.job_engine),
                self.layout,
                self.bus.publish,
                workers=self.job_workers,
                stale_after=self.stale_after,
                max_attempts=self.job_max_attempts,
                max_crashes=self.job_max_crashes,
                commit_retry_seconds=self.job_commit_retry_seconds,
                pause_dir=self.job_pause_dir or None,
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
            python=self.transfer_python,
            user=self.transfer_user,
            allow_loopback=self.transfer_allow_loopback,
            kube=self.kube_settings(),
        )
        self.transfers.runner = self.runner
        if isinstance(self.runner, JobRunner):
            self.runner.tasks[JobKind.transfer.value] = transfer_task(self.transfers.run)
        hub_auth = HubOAuth(parent=self, cache_max_age=60)
        identities = IdentityResolver(
            parent=self,
            hub_api_url=os.environ.get("JUPYTERHUB_API_URL", ""),
            api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
        )
        self.ctx = RegistryContext(
            sessions=self.sessions,
            pool=self._session_pool(),
            layout=self.layout,
            runner=self.runner,
            bus=self.bus,
            identities=identities,
            hub_auth=hub_auth,
            usage=UsageCache(self.volume_usage_max_age, self.volume_usage_min_age),
            base_path=self.base_path,
            metrics_require_auth=self.metrics_require_auth,
            vault=vault,
            transfers=self.transfers,
            transfer_allow_loopback=self.transfer_allow_loopback,
        )

    def _session_pool(self) -> SessionPool:
        """Requests' database work. On a database server, reads get an autocommit engine of
        their own (one connection held by each of the pool's threads). On SQLite, where a
        statement costs no round trip, reads and writes share the one engine: a serving process
        reading in pysqlite's autocommit mode was seen to miss a version another process had
        just committed (a 404 right after the 202: bench/e2e_bench.py)."""
        read_engine = None
        if self.engine.dialect.name != "sqlite":
            read_engine = dbmod.make_engine(
                self.db_url,
                pool_size=self.db_threads,
                pool_recycle=self.db_pool_recycle,
                autocommit=True,
            )
        return SessionPool(
            self.sessions, self.db_threads, read_engine, recycle=self.db_pool_recycle
        )

    def make_app(self) -> web.Application:
        return web.Application(
            routes(self.base_path),
            fermi=self.ctx,
            cookie_secret=self.cookie_secret,
            default_handler_class=NotFoundHandler,
            xsrf_cookies=False,  # HubOAuth checks XSRF on cookie-authenticated requests itself
            log_function=self._log_request,
        )

    def _log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        level = self.log.info if status < 400 else self.log.warning
        if status >= 500:
            level = self.log.error
        elif handler.request.method in ("GET", "HEAD") and (status < 300 or status == 304):
            # answered reads are debug, as jupyter_server logs them: at a thousand a second
            # the line cost 4 % of a serving process and drowned the writes and errors.
            # (traitlets leaves the logger at DEBUG and filters in the handler: ask the app)
            if self.log_level > logging.DEBUG:
                return
            level = self.log.debug
        ms = 1000.0 * handler.request.request_time()
        level("%d %s %s %.1fms", status, handler.request.method, handler.request.uri, ms)

    async def serve(self, stop: asyncio.Event | None = None) -> int:
        """Serve until SIGINT/SIGTERM (or until ``stop`` is set, when embedded in a test).
        Returns how many jobs were still running (see start)."""
        server = HTTPServer(self.make_app(), xheaders=True, max_body_size=MAX_BODY)
        # SO_REUSEPORT: each process has its own socket; the kernel spreads connections
        server.add_sockets(bind_sockets(self.port, self.ip, reuse_port=self.processes > 1))
        await self.bus.start()
        runs_jobs = isinstance(self.runner, JobRunner)
        if runs_jobs:
            await self._recover_at_start()
        url = f"http://{self.ip}:{self.port}{self.base_path}"
        self.log.info(
            "fermi registry %s listening on %s (database %s, storage %s)",
            __version__,
            url,
            self.engine.url.render_as_string(hide_password=True),
            self.storage_root,
        )
        if os.environ.get("FERMI_REGISTRY_CHILD", "0") in ("", "0"):
            print(f"fermi-registry: listening on {url}api/v1/", flush=True)
        own_process = stop is None
        stop = stop or self._stop_on_signals()
        background = self._background() if runs_jobs else []
        await stop.wait()
        self.log.info("fermi registry stopping")
        if own_process:
            self._deadline()
        for task in background:
            task.cancel()
        server.stop()
        return await self._stop_jobs(own_process)

    async def work(self) -> int:
        """The job process (see ``job_process``): runs the jobs the serving processes queue,
        recovers abandoned ones and sweeps storage, until SIGTERM. Serves nothing."""
        assert isinstance(self.runner, JobRunner)
        await self.bus.start(tail=False)
        listen(self._wake_read, self.runner.submit, self.runner.cancel_here)
        await self._recover_at_start()
        self.log.info("fermi registry: job process at nice %d", os.nice(0))
        stop = self._stop_on_signals()
        background = self._background()
        await stop.wait()
        self._deadline()
        for task in background:
            task.cancel()
        return await self._stop_jobs(True)

    def _stop_on_signals(self) -> asyncio.Event:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # a hub-managed service may inherit "SIGINT ignored"; install real handlers
            loop.add_signal_handler(sig, stop.set)
        return stop

    @staticmethod
    def _deadline() -> None:
        """Told to stop, a process ends within seconds whatever hangs."""
        deadline = threading.Timer(15.0, os._exit, args=(0,))
        deadline.daemon = True
        deadline.start()

    def _background(self) -> list[asyncio.Task]:
        """What the process that runs jobs also does: recovery and the storage sweep."""
        tasks = [asyncio.create_task(self._recover_periodically())]
        if self.gc_interval > 0:
            from .sweeper import sweep_periodically

            tasks.append(
                asyncio.create_task(
                    sweep_periodically(
                        self.layout, self.sessions, self.gc_interval, self.gc_min_age
                    )
                )
            )
        return tasks

    async def _recover_at_start(self) -> None:
        recovered = await asyncio.get_running_loop().run_in_executor(None, self._recover)
        if recovered:
            self.log.warning("recovered %d job(s) left by a stopped registry", recovered)

    async def _stop_jobs(self, own_process: bool) -> int:
        await self.bus.stop()
        running = self.runner.stop()
        if running:
            self.log.info("%d running job(s) will resume when a registry starts", running)
        if not own_process or not running:  # embedded: jobs stop at their next progress check
            self.runner.shutdown(wait=False)
            self.ctx.pool.shutdown()
        return running

    def _recover(self) -> int:
        assert isinstance(self.runner, JobRunner)  # only processes that run jobs recover them
        return self.runner.recover() + self.transfers.sweep()

    async def _recover_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.recover_interval)
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._recover)
            except Exception:
                self.log.exception("job recovery failed")

    def start(self) -> None:
        if self.subapp is not None:
            self.subapp.start()
            return
        if self.processes <= 1:
            self._exit_after(asyncio.run(self.serve()))
            return
        # the parent only supervises: no engine, thread or loop may cross the fork
        self.engine.dispose()
        if self.job_engine is not None:
            self.job_engine.dispose()
        self.runner.shutdown(wait=True)
        self.ctx.pool.shutdown()
        children = self.processes
        if self.job_process:
            self._wake_read, self._wake_write = wake_pipe()
            children += 1  # the last one runs the jobs
        Supervisor(
            children,
            self._child,
            log=self.log,
            names=self._child_name,
            reaped=metrics.process_gone,
        ).run()

    def _child_name(self, index: int) -> str:
        return "job process" if index >= self.processes else f"serving process {index + 1}"

    @staticmethod
    def _exit_after(running: int) -> None:
        if running:
            # crash-only stop: the running jobs are marked and resume in the next registry,
            # keeping what they stored; waiting for them (or cancelling them) would not
            logging.shutdown()
            os._exit(0)

    def _child(self, index: int) -> None:
        jobs = index >= self.processes
        tag = "jobs" if jobs else f"p{index + 1}"
        os.environ["FERMI_REGISTRY_CHILD"] = str(index + 1)
        for handler in logging.getLogger().handlers + self.log.handlers:
            fmt = getattr(handler, "formatter", None)
            if fmt is not None and hasattr(fmt, "_fmt") and "[p" not in (fmt._fmt or ""):
                fmt._fmt = f"[{tag}] " + (fmt._fmt or "%(message)s")
                if hasattr(fmt, "_style"):
                    fmt._style._fmt = fmt._fmt
        if jobs:  # requests first: the kernel gives this process what the serving ones leave
            name_process(JOB_PROCESS_NAME)
            os.close(self._wake_write)
            os.setpriority(os.PRIO_PROCESS, 0, max(0, min(19, self.storage_nice)))
            self.build()
            self._exit_after(asyncio.run(self.work()))
            return
        if self.job_process:
            os.close(self._wake_read)
        self.build(wake_fd=self._wake_write if self.job_process else None)
        self._exit_after(asyncio.run(self.serve()))


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
