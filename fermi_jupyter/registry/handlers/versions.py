"""/api/v1/datasets/{ref}/versions: list, register, get, manifest, verify, restore, delete."""

from __future__ import annotations

from ..managers import datasets as datasets_mgr
from ..managers import versions as mgr
from ..orm import Job, Version
from ..serialize import job_json, version_json
from .base import BaseHandler


class VersionsBase(BaseHandler):
    def render(self, v: Version) -> dict:
        return version_json(
            v, aliases=mgr.aliases_for(self.db, v), mounted=mgr.is_mounted(self.db, v)
        )

    def version(self, ref: str, selector: str) -> Version:
        ds = datasets_mgr.resolve(self.db, self.identity, ref)
        return mgr.select_version(self.db, ds, selector)

    def job_accepted(self, job: Job, v: Version) -> None:
        self.set_header("Location", f"{self.ctx.base_path}api/v1/jobs/{job.id}")
        self.write_json(job_json(job, v.ref), status=202)


class VersionsHandler(VersionsBase):
    def get(self, ref: str) -> None:
        ds = datasets_mgr.resolve(self.db, self.identity, ref)
        limit, cursor = self.page_args()
        rows, nxt = mgr.list_(self.db, ds, status=self.arg("status"), limit=limit, cursor=cursor)
        self.write_json({"items": [self.render(v) for v in rows], "next_cursor": nxt})

    def post(self, ref: str) -> None:
        ds = datasets_mgr.resolve(self.db, self.identity, ref)
        v = mgr.register(
            self.db, self.ctx.runner, self.ctx.layout, self.identity, ds, self.json_body()
        )
        self.set_header(
            "Location", f"{self.ctx.base_path}api/v1/datasets/{ds.id}/versions/{v.number}"
        )
        self.write_json(self.render(v), status=202)


class VersionHandler(VersionsBase):
    def get(self, ref: str, selector: str) -> None:
        self.write_json(self.render(self.version(ref, selector)))

    def delete(self, ref: str, selector: str) -> None:
        ds = datasets_mgr.resolve(self.db, self.identity, ref)
        v = mgr.select_version(self.db, ds, selector)
        outcome = mgr.delete(self.db, self.ctx.runner, self.ctx.layout, self.identity, ds, v)
        if outcome == "cancelling":
            self.write_json({"ref": v.ref, "status": "cancelling"}, status=202)
        else:
            self.set_status(204)
            self.finish()


class ManifestHandler(VersionsBase):
    def get(self, ref: str, selector: str) -> None:
        v = self.version(ref, selector)
        limit, cursor = self.page_args()
        self.write_json(mgr.manifest(self.ctx.layout, v, limit=limit, cursor=cursor))


class VerifyHandler(VersionsBase):
    def post(self, ref: str, selector: str) -> None:
        v = self.version(ref, selector)
        self.job_accepted(mgr.start_verify(self.db, self.ctx.runner, self.identity, v), v)


class RestoreHandler(VersionsBase):
    def post(self, ref: str, selector: str) -> None:
        v = self.version(ref, selector)
        job = mgr.start_restore(
            self.db, self.ctx.runner, self.ctx.layout, self.identity, v, self.json_body()
        )
        self.job_accepted(job, v)
