"""/api/v1/jobs: follow and cancel long work; /api/v1/mounts; /api/v1/audit."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..errors import NotFound
from ..managers import mounts as mounts_mgr
from ..orm import Job, Version, int_key
from ..pagination import decode_cursor, encode_cursor
from ..serialize import audit_json, iso, job_json
from .base import BaseHandler


class JobsBase(BaseHandler):
    def job(self, job_id: str) -> Job:
        key = int_key(job_id)
        job = self.db.get(Job, key) if key is not None else None
        if job is None or not (self.identity.admin or job.created_by == self.identity.name):
            raise NotFound(f"no job {job_id} of yours", reason="job-not-found")
        return job

    def render(self, job: Job) -> dict:
        v = self.db.get(Version, job.version_id) if job.version_id else None
        return job_json(job, v.ref if v else None)


class JobsHandler(JobsBase):
    def get(self) -> None:
        limit, cursor = self.page_args()
        stmt = select(Job)
        if not self.identity.admin:
            stmt = stmt.where(Job.created_by == self.identity.name)
        if state := self.arg("state"):
            stmt = stmt.where(Job.state == state)
        key = decode_cursor(cursor, 1)
        if key:
            stmt = stmt.where(Job.id < key[0])
        rows = list(self.db.scalars(stmt.order_by(Job.id.desc()).limit(limit + 1)))
        nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
        self.write_json({"items": [self.render(j) for j in rows[:limit]], "next_cursor": nxt})


class JobHandler(JobsBase):
    def get(self, job_id: str) -> None:
        self.write_json(self.render(self.job(job_id)))

    def delete(self, job_id: str) -> None:
        job = self.job(job_id)
        if job.state in ("queued", "running"):
            self.ctx.runner.cancel(job.id)
            self.db.expire_all()
            job = self.job(job_id)
        self.write_json(self.render(job), status=202)


class MountsHandler(BaseHandler):
    def get(self) -> None:
        rows = mounts_mgr.list_(self.db, self.identity, self.arg("server"))
        items = [
            {
                "server": m.server,
                "owner": m.owner,
                "version": v.ref,
                "mount_path": m.mount_path,
                "created_at": iso(m.created_at),
            }
            for m, v in rows
        ]
        self.write_json({"items": items})


class ServerMountsHandler(BaseHandler):
    def put(self, server: str) -> None:
        rows = mounts_mgr.record(self.db, self.identity, server, self.json_body())
        self.write_json({"server": server, "count": len(rows)})

    def delete(self, server: str) -> None:
        mounts_mgr.forget(self.db, self.identity, server)
        self.set_status(204)
        self.finish()


class AuditHandler(BaseHandler):
    def get(self) -> None:
        limit, cursor = self.page_args()
        rows, nxt = audit.query(
            self.db,
            self.identity,
            actor=self.arg("actor"),
            target=self.arg("target"),
            action=self.arg("action"),
            limit=limit,
            cursor=cursor,
        )
        self.write_json({"items": [audit_json(e) for e in rows], "next_cursor": nxt})
