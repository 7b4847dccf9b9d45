"""Giving space back outside of jobs: ``fermi-registry gc`` and the registry's periodic sweep.

Both run :func:`storage.sweep`: unfinished snapshots of versions nobody is processing, stale
temporary files, and every object or replica no version links (see storage/gc.py). Versions
still ``pending`` or ``processing`` in the database keep what they have built so far, and
nothing younger than ``min_age`` is touched, so a registration that just started is safe."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from traitlets import Float, Unicode, default
from traitlets.config import Application

from . import db as dbmod
from . import storage
from .orm import Version
from .storage.space import human

log = logging.getLogger(__name__)


def active_versions(sessions: sessionmaker[Session]) -> set[tuple[str, int]]:
    """(dataset id, number) of every version a job may still be building."""
    with sessions() as db:
        rows = db.execute(
            select(Version.dataset_id, Version.number).where(
                Version.status.in_(("pending", "processing"))
            )
        )
        return {(ds, n) for ds, n in rows}


def describe(report: storage.SweepReport) -> str:
    return (
        f"freed {report.objects} objects ({human(report.object_bytes)}) and "
        f"{report.leftovers} leftovers of unfinished work ({human(report.leftover_bytes)}): "
        f"{human(report.bytes)} in all"
    )


def sweep_once(
    layout: storage.StorageLayout, sessions: sessionmaker[Session], min_age: float
) -> storage.SweepReport:
    return storage.sweep(layout, active=active_versions(sessions), min_age=min_age)


async def sweep_periodically(
    layout: storage.StorageLayout,
    sessions: sessionmaker[Session],
    interval: float,
    min_age: float,
) -> None:
    """The registry's background sweep: every ``interval`` seconds, off the event loop."""
    loop = asyncio.get_running_loop()
    # at start: finish deleting what a stopped registry left in the trash
    await loop.run_in_executor(None, storage.reap, layout)
    while True:
        await asyncio.sleep(interval)
        try:
            report = await loop.run_in_executor(None, sweep_once, layout, sessions, min_age)
            if report.bytes or report.objects or report.leftovers:
                log.info("storage sweep: %s", describe(report))
        except Exception:
            log.exception("storage sweep failed")


class GcApp(Application):
    """``fermi-registry gc``: give back the space nothing uses, and say how much."""

    name = "fermi-registry gc"
    description = (
        "Remove objects no dataset version uses, unfinished snapshots of versions nobody is "
        "processing and stale temporary files; print the bytes freed."
    )
    aliases = {
        "storage-root": "GcApp.storage_root",
        "db-url": "GcApp.db_url",
        "min-age": "GcApp.min_age",
    }
    storage_root = Unicode(
        help="The registry's storage root, e.g. /srv/fermi. Default: ./fermi-storage"
    ).tag(config=True)
    db_url = Unicode(
        help="The registry's database URL. Default: SQLite in the storage root, e.g. "
        "postgresql://fermi:secret@db:5432/fermi"
    ).tag(config=True)
    min_age = Float(
        3600.0,
        help="Seconds: leave alone what is younger (work that has just started), e.g. 3600. "
        "0 removes everything unused now — only when no registration is running.",
    ).tag(config=True)

    @default("storage_root")
    def _default_storage_root(self) -> str:
        return os.path.abspath("fermi-storage")

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(self.storage_root) / 'fermi-registry.sqlite'}"

    def start(self) -> None:
        root = Path(self.storage_root)
        if not (root / "objects").is_dir():
            print(f"fermi-registry gc: {root} is not a storage root", file=sys.stderr)
            sys.exit(2)
        try:
            engine = dbmod.make_engine(self.db_url)
            report = sweep_once(
                storage.StorageLayout(root), dbmod.make_sessionmaker(engine), self.min_age
            )
        except Exception as e:  # a readable line, not a traceback
            print(f"fermi-registry gc: {e}", file=sys.stderr)
            sys.exit(2)
        print(f"fermi-registry gc: {describe(report)}")
