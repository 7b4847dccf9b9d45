"""/api/v1/jobs: follow and cancel long work; /api/v1/mounts; /api/v1/audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.states import JobState
from .. import audit
from ..errors import NotFound, Reason
from ..managers import mounts as mounts_mgr
from ..orm import Job, Version
from ..pagination import decode_cursor, encode_cursor, parse_int_id
from ..serialize import audit_json, iso, job_json
from .base import BaseHandler


def _jobs(db: Session, who: Identity, *, job_id: int | None = None, state=None, limit=1, key=None):  # type: ignore[no-untyped-def]
    """Jobs with their version's reference, in one query (plain rows, newest first)."""
    stmt = select(
        Job.__table__, Version.dataset_id.label("v_dataset"), Version.number.label("v_number")
    ).outerjoin(Version, Version.id == Job.version_id)
    if not who.admin:
        stmt = stmt.where(Job.created_by == who.name)
    if job_id is not None:
        stmt = stmt.where(Job.id == job_id)
    if state:
        stmt = stmt.where(Job.state == state)
    if key:
        stmt = stmt.where(Job.id < key[0])
    return db.connection().execute(stmt.order_by(Job.id.desc()).limit(limit)).all()


def _json(row: Any) -> dict:
    ref = f"{row.v_dataset}@{row.v_number}" if row.v_dataset is not None else None
    return job_json(row, ref)


def _one(db: Session, who: Identity, job_id: str) -> dict:
    number = parse_int_id(job_id)
    rows = _jobs(db, who, job_id=number) if number is not None else []
    if not rows:
        raise NotFound(f"no job {job_id} of yours", reason=Reason.job_not_found)
    return _json(rows[0])


class JobsHandler(BaseHandler):
    async def get(self) -> None:
        limit, cursor = self.page_args()
        who, state = self.identity, self.arg("state")
        key = decode_cursor(cursor, (int,))

        def page(db):  # type: ignore[no-untyped-def]
            rows = _jobs(db, who, state=state, limit=limit + 1, key=key)
            nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
            return {"items": [_json(r) for r in rows[:limit]], "next_cursor": nxt}

        self.write_json(await self.call(page))


class JobHandler(BaseHandler):
    async def get(self, job_id: str) -> None:
        who = self.identity
        self.write_json(await self.call(lambda db: _one(db, who, job_id)))

    async def delete(self, job_id: str) -> None:
        who, runner = self.identity, self.ctx.runner

        def cancel(db):  # type: ignore[no-untyped-def]
            job = _one(db, who, job_id)
            if job["state"] in (JobState.queued, JobState.running):
                runner.cancel(job["id"])
                job = _one(db, who, job_id)
            return job

        self.write_json(await self.call(cancel), status=202)


class MountsHandler(BaseHandler):
    async def get(self) -> None:
        who, server = self.identity, self.arg("server")

        def listing(db):  # type: ignore[no-untyped-def]
            return [
                {
                    "server": m.server,
                    "owner": m.owner,
                    "version": v.ref,
                    "mount_path": m.mount_path,
                    "created_at": iso(m.created_at),
                }
                for m, v in mounts_mgr.list_(db, who, server)
            ]

        self.write_json({"items": await self.call(listing)})


class ServerMountsHandler(BaseHandler):
    async def put(self, server: str) -> None:
        body, who = self.body("MountRecords"), self.identity
        rows = await self.call(lambda db: len(mounts_mgr.record(db, who, server, body)))
        self.write_json({"server": server, "count": rows})

    async def delete(self, server: str) -> None:
        who = self.identity
        await self.call(lambda db: mounts_mgr.forget(db, who, server))
        self.set_status(204)
        self.finish()


class AuditHandler(BaseHandler):
    async def get(self) -> None:
        limit, cursor = self.page_args()
        who = self.identity
        filters = {"actor": self.arg("actor"), "target": self.arg("target")}
        filters["action"] = self.arg("action")

        def page(db):  # type: ignore[no-untyped-def]
            rows, nxt = audit.query(db, who, limit=limit, cursor=cursor, **filters)
            return {"items": [audit_json(e) for e in rows], "next_cursor": nxt}

        self.write_json(await self.call(page))
