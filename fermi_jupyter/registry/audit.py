"""Audit trail: who created, mounted, deleted or re-shared what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..domain.identity import Identity
from .orm import AuditEvent
from .pagination import decode_cursor, encode_cursor


def _row(who: Identity | str, action: str, target: str, detail: dict[str, Any]) -> dict:
    actor = who if isinstance(who, str) else who.name
    return {"actor": actor, "action": action, "target": target, "detail": detail}


def record(db: Session, who: Identity | str, action: str, target: str, **detail: Any) -> None:
    """Add an event to the caller's transaction: it commits (or rolls back) with the change."""
    db.add(AuditEvent(**_row(who, action, target, detail)))


_INSERT = insert(AuditEvent.__table__)


def insert_now(db: Session, who: Identity | str, action: str, target: str, **detail: Any) -> None:
    """:func:`record`, written at once with one statement instead of at the next flush: for
    hot paths that read nothing back (the caller's transaction still commits it)."""
    db.execute(_INSERT, _row(who, action, target, detail))


def query(
    db: Session,
    who: Identity,
    *,
    actor: str | None = None,
    target: str | None = None,
    action: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[AuditEvent], str | None]:
    """Newest first. Admins see every event; others only their own actions."""
    stmt = select(AuditEvent)
    if not who.admin:
        stmt = stmt.where(AuditEvent.actor == who.name)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if target:
        stmt = stmt.where(AuditEvent.target.startswith(target))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    key = decode_cursor(cursor, (int,))
    if key:
        stmt = stmt.where(AuditEvent.id < key[0])
    rows = list(db.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], nxt
