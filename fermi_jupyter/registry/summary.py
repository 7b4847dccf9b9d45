"""What a dataset list shows of each dataset's versions — its newest ready version and its
aliases — kept on the dataset's row (``latest_ready``, ``alias_map``).

A page of 50 datasets used to compute both with two correlated subqueries a row: on
PostgreSQL two thirds of the database's time for the page. They are now recomputed with the
same subqueries, once, by whoever changes what they are made of, in the same transaction:
every flush that deletes a version, makes one ready or takes it out of ready, or adds, moves
or deletes an alias refreshes its datasets' copies (:func:`after_flush`, attached to the
registry's sessions in db.py). Every write of a version's status and of aliases goes through
the ORM; tests/registry/test_list_copies.py checks the copies after each kind of write, on
both databases. Rows loaded in bulk without the ORM need :func:`refresh_all`.

On PostgreSQL (READ COMMITTED), two transactions may change the same dataset at once — a
job making version 2 ready while its owner moves an alias. The refresh therefore locks the
dataset rows first, in a statement of its own: the ``UPDATE`` after it takes a snapshot in
which every earlier writer of those datasets has committed, so the last to commit computes
from everything. (An ``UPDATE`` alone would wait for the row, but compute its subqueries
from the snapshot it started with, and could write back a copy missing the other's change.)
SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, bindparam, func, inspect, select, update
from sqlalchemy.orm import Session

from ..domain.states import VersionStatus
from .orm import Alias, Dataset, Version

READY = VersionStatus.ready.value


def latest_subquery() -> Any:
    """The newest ready version of the enclosing statement's dataset (one index probe)."""
    return (
        select(Version.number)
        .where(Version.dataset_id == Dataset.id, Version.status == VersionStatus.ready)
        .order_by(Version.number.desc())
        .limit(1)
        .correlate(Dataset)
        .scalar_subquery()
    )


def aliases_subquery(dialect: str) -> Any:
    """``{alias: number}`` of the enclosing statement's dataset, aggregated as JSON (SQL NULL
    or ``{}`` for none, by database)."""
    agg = (
        func.json_object_agg(Alias.name, Alias.number)
        if dialect == "postgresql"
        else func.json_group_object(Alias.name, Alias.number)
    )
    return select(agg).where(Alias.dataset_id == Dataset.id).correlate(Dataset).scalar_subquery()


def refresh(conn: Connection, ids: Collection[str]) -> None:
    """Recompute the copies of these datasets from their versions and aliases."""
    pg = conn.dialect.name == "postgresql"
    update_one = _update_one(conn.dialect.name)
    for ds_id in sorted(ids):  # one lock order for every writer: no deadlock between two
        if pg:
            conn.execute(_LOCK_ONE, {"ds_id": ds_id})
        conn.execute(update_one, {"ds_id": ds_id})


def refresh_all(conn: Connection) -> None:
    """Recompute every dataset's copies: after rows were loaded in bulk, without the ORM
    (benchmarks, tests), while nobody else writes."""
    conn.execute(_update(conn.dialect.name))


_LOCK_ONE = select(Dataset.id).where(Dataset.id == bindparam("ds_id")).with_for_update()
_UPDATE_ONE: dict[str, Any] = {}


def _update_one(dialect: str) -> Any:
    # built once per database: a job makes a version ready at every registration
    if dialect not in _UPDATE_ONE:
        _UPDATE_ONE[dialect] = _update(dialect).where(Dataset.__table__.c.id == bindparam("ds_id"))
    return _UPDATE_ONE[dialect]


def _update(dialect: str) -> Any:
    table = Dataset.__table__
    return update(table).values(
        latest_ready=latest_subquery(),
        alias_map=aliases_subquery(dialect),
        updated_at=table.c.updated_at,  # not a change of the dataset's own metadata
    )


def touched(session: Session) -> set[str]:
    """The datasets whose copies this flush changes: any change of an alias, a deleted
    version, a new version that is ready, a version whose status changed from or to ready.
    A registration changes nothing a list shows until its version is ready."""
    changed: list[object] = list(session.deleted)
    for obj in session.new:
        if isinstance(obj, Alias) or (isinstance(obj, Version) and _status(obj)[0] == [READY]):
            changed.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Alias):
            changed.append(obj)
        elif isinstance(obj, Version):
            new, old = _status(obj)
            # (a status set without its old value loaded might have been ready)
            if new and (READY in new or READY in old or not old):
                changed.append(obj)
    # from each instance's own state: a deleted row could not be loaded again
    return {
        inspect(o).dict.get("dataset_id") or o.dataset_id
        for o in changed
        if isinstance(o, Version | Alias)
    }


def _status(v: Version) -> tuple[list[str], list[str]]:
    """(the status this flush writes, the one it replaces) of a version."""
    history = inspect(v).attrs.status.history
    return list(history.added or ()), list(history.deleted or ())


def after_flush(session: Session, _flush_context: Any) -> None:
    """Refresh the copies of what this flush changed (the instances still show their
    pre-flush state and history here)."""
    ids = touched(session)
    if ids:
        refresh(session.connection(), ids)
