"""Which dataset versions each running server mounts (so mounted versions can't be deleted)."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from .. import audit
from ..errors import BadRequest, Forbidden, Reason
from ..orm import Mount, Version
from . import versions as versions_mgr

SERVER_RE = re.compile(r"^[^/\s]{1,255}(/[^/\s]{0,255})?$")


def _check_server(who: Identity, server: str) -> str:
    if not isinstance(server, str) or not SERVER_RE.match(server):
        raise BadRequest("server must be 'user' or 'user/servername'", reason=Reason.invalid_server)
    owner = server.split("/", 1)[0]
    if not (who.admin or owner == who.name):
        raise Forbidden(f"you may record mounts only for your own servers, not {server!r}")
    return server


def record(db: Session, who: Identity, server: str, body: dict) -> list[Mount]:
    """Replace the mount records of ``server`` with ``body["mounts"]``."""
    server = _check_server(who, server)
    owner = server.split("/", 1)[0]
    items = body["mounts"]  # shape and count (MAX_MOUNTS) checked by the MountRecords schema
    rows = []
    for item in items:
        v: Version = versions_mgr.resolve_ref(db, who, item["version"])
        rows.append(
            Mount(
                server=server,
                owner=owner,
                version_id=v.id,
                mount_path=str(item.get("mount_path") or ""),
            )
        )
    db.execute(delete(Mount).where(Mount.server == server))
    db.add_all(rows)
    audit.record(db, who, "mount.record", server, versions=[r.version_id for r in rows])
    db.commit()
    return rows


def forget(db: Session, who: Identity, server: str) -> int:
    server = _check_server(who, server)
    n = db.execute(delete(Mount).where(Mount.server == server)).rowcount
    audit.record(db, who, "mount.forget", server)
    db.commit()
    return n


def list_(db: Session, who: Identity, server: str | None) -> list[tuple[Mount, Version]]:
    stmt = select(Mount, Version).join(Version, Version.id == Mount.version_id)
    if not who.admin:
        stmt = stmt.where(Mount.owner == who.name)
    if server:
        stmt = stmt.where(Mount.server == server)
    return [(m, v) for m, v in db.execute(stmt.order_by(Mount.server, Mount.id))]
