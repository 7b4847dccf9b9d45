"""Engine and session set-up, and Alembic upgrades at start-up."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from . import summary

log = logging.getLogger(__name__)
ALEMBIC_DIR = Path(__file__).parent / "alembic"


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    pool_recycle: float = 1800.0,
    pre_ping: bool = False,
    autocommit: bool = False,
) -> Engine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and foreign keys.

    No ping on checkout by default (a round trip per request): connections are recycled
    after ``pool_recycle`` seconds and a dropped one is retried by the caller. The job runner's
    engine sets ``pre_ping``: a job's commit must survive a database restart. ``autocommit``
    (a database server only): every statement is its own transaction, with no ``BEGIN`` and
    ``ROLLBACK`` round trips around it — for reads alone."""
    common = {
        "pool_size": pool_size,
        "max_overflow": 4,
        "pool_recycle": pool_recycle,
        "pool_pre_ping": pre_ping,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **common
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # the pool's return does a rollback; nothing to reset beyond that. JSON columns (tags,
    # aliases of a page) are parsed by orjson: the standard library's parser was 5 % of a
    # serving process's time on the read mix
    if autocommit:
        common["isolation_level"] = "AUTOCOMMIT"
    return create_engine(url, json_deserializer=json_loads, **common)


_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_B = re.compile(rb"\d{19}")


def json_loads(text: str | bytes) -> object:
    """orjson, but the standard library for a document with a run of 19+ digits: orjson turns
    integers beyond 64 bits into floats, and a stored value must come back exactly."""
    long = (_LONG_NUMBER_B if isinstance(text, bytes) else _LONG_NUMBER).search(text)  # type: ignore[arg-type]
    return json.loads(text) if long else orjson.loads(text)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    if current_revision(engine) != head_revision(engine):
        log.info("upgrading registry database to %s", head_revision(engine))
        command.upgrade(alembic_config(engine), "head")


def analyze(engine: Engine) -> None:
    """Refresh planner statistics. SQLite has no autovacuum: without them it picks an index
    per OR branch and sorts, instead of walking the (name, id) index, and lists get 50x slower."""
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


class RegistrySession(Session):
    """The registry's sessions: a flush that changes versions or aliases also refreshes the
    copies a dataset list reads (summary.py)."""


event.listen(RegistrySession, "after_flush", summary.after_flush)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=RegistrySession, expire_on_commit=False)
