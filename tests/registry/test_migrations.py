"""Schema upgrades on a database that already holds data, and back down.

Migration 0006 adds PostgreSQL's stored ``search_text`` column: rows written before it must be
searchable after it, through the registry, without anyone re-saving them. Migration 0007 keeps
each dataset's newest ready version and aliases on its row: a list after it must show what
the versions and aliases written before it say.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, inspect

from fermi_jupyter.domain.identity import Identity
from fermi_jupyter.registry import db as dbmod
from fermi_jupyter.registry.managers import datasets as mgr
from fermi_jupyter.registry.orm import Alias, Dataset, Version

from ..conftest import BACKENDS, make_db_url


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    home = Path(tempfile.mkdtemp(prefix="fermi-migrate-"))
    eng = dbmod.make_engine(make_db_url(request, request.param, home, "fast_migrations"))
    yield eng
    eng.dispose()
    shutil.rmtree(home, ignore_errors=True)


def _names(engine, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    who = Identity("alice", frozenset(), admin=False)
    with dbmod.make_sessionmaker(engine)() as db:
        return [r.name for r in mgr.list_(db, who, q=q, limit=10)[0]]


def _indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {i["name"] for i in inspect(engine).get_indexes("datasets")}


def test_rows_from_before_the_search_column_are_found_after_it(engine):  # type: ignore[no-untyped-def]
    cfg = dbmod.alembic_config(engine)
    command.upgrade(cfg, "0005_transfers")
    with engine.begin() as conn:
        conn.execute(
            insert(Dataset.__table__).values(
                id="ds-migrate0001",
                name="Old-Speech",
                owner="alice",
                visibility="private",
                data_type="audio",
                description="Written Before 0006",
                tags=[],
                next_version=1,
                created_at=datetime.now(timezone.utc),
                updated_at=datetime.now(timezone.utc),
            )
        )
    command.upgrade(cfg, "head")
    assert _names(engine, "old-speech") == _names(engine, "BEFORE 0006") == ["Old-Speech"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            kept = conn.exec_driver_sql("SELECT search_text FROM datasets").scalar()
        assert kept == "old-speech\nwritten before 0006"
        assert "ix_datasets_search_trgm" in _indexes(engine)
        assert not {"ix_datasets_name_trgm", "ix_datasets_description_trgm"} & _indexes(engine)
    # and back: the column goes, the indexes it replaced return, and up again
    command.downgrade(cfg, "0005_transfers")
    columns = {c["name"] for c in inspect(engine).get_columns("datasets")}
    assert "search_text" not in columns
    if engine.dialect.name == "postgresql":
        assert {"ix_datasets_name_trgm", "ix_datasets_description_trgm"} <= _indexes(engine)
    command.upgrade(cfg, "head")
    assert _names(engine, "speech") == ["Old-Speech"]


def _listed(engine) -> dict[str, tuple[int | None, dict[str, int]]]:  # type: ignore[no-untyped-def]
    who = Identity("alice", frozenset(), admin=False)
    with dbmod.make_sessionmaker(engine)() as db:
        rows, _ = mgr.list_(db, who, limit=10)
        return {d["name"]: (d["latest"], d["aliases"]) for d in mgr.to_json(db, rows)}


def test_datasets_from_before_the_list_copies_show_their_versions_after_them(engine):  # type: ignore[no-untyped-def]
    cfg = dbmod.alembic_config(engine)
    command.upgrade(cfg, "0006_search_text")
    now = datetime.now(timezone.utc)
    ds = {"owner": "alice", "visibility": "private", "data_type": "audio", "description": ""}
    ds |= {"tags": [], "created_at": now, "updated_at": now}
    v = {"mode": "snapshot", "source_path": "", "message": "", "created_by": "alice"}
    v |= {"files_done": 0, "bytes_done": 0, "warnings": [], "parents": [], "created_at": now}
    with engine.begin() as conn:
        conn.execute(
            insert(Dataset.__table__),
            [
                {"id": "ds-copies0001", "name": "with-versions", "next_version": 4, **ds},
                {"id": "ds-copies0002", "name": "without", "next_version": 1, **ds},
            ],
        )
        conn.execute(
            insert(Version.__table__),
            [
                {"dataset_id": "ds-copies0001", "number": n, "status": status, **v}
                for n, status in ((1, "ready"), (2, "ready"), (3, "failed"))
            ],
        )
        conn.execute(
            insert(Alias.__table__),
            [
                {"dataset_id": "ds-copies0001", "name": name, "number": n}
                | {"updated_by": "alice", "updated_at": now}
                for name, n in (("prod", 1), ("next", 2))
            ],
        )
    command.upgrade(cfg, "head")
    want = {"with-versions": (2, {"prod": 1, "next": 2}), "without": (None, {})}
    assert _listed(engine) == want
    command.downgrade(cfg, "0006_search_text")
    columns = {c["name"] for c in inspect(engine).get_columns("datasets")}
    assert not {"latest_ready", "alias_map"} & columns
    command.upgrade(cfg, "head")
    assert _listed(engine) == want
    # SQLite's full-text index (its triggers on the table) survived both directions
    assert _names(engine, "versions") == ["with-versions"]
