"""/api/v1/datasets/{ref}/versions: list, register, get, manifest, verify, restore, delete."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..managers import datasets as datasets_mgr
from ..managers import versions as mgr
from ..orm import Version
from ..serialize import job_json
from .base import BaseHandler


class VersionsBase(BaseHandler):
    def version(self, db: Session, ref: str, selector: str) -> Version:
        ds = datasets_mgr.resolve(db, self.identity, ref)
        return mgr.select_version(db, ds, selector)

    def accepted(self, job: dict) -> None:
        self.set_header("Location", f"{self.ctx.base_path}api/v1/jobs/{job['id']}")
        self.write_json(job, status=202)


class VersionsHandler(VersionsBase):
    async def get(self, ref: str) -> None:
        limit, cursor = self.page_args()
        who, status = self.identity, self.arg("status")

        def page(db):  # type: ignore[no-untyped-def]
            ds, rows, nxt = mgr.page(db, who, ref, status=status, limit=limit, cursor=cursor)
            return {"items": mgr.to_json(db, ds, rows), "next_cursor": nxt}

        self.write_json(await self.call(page))

    async def post(self, ref: str) -> None:
        body, who, ctx = self.body("Registration"), self.identity, self.ctx

        def register(db):  # type: ignore[no-untyped-def]
            ds = datasets_mgr.resolve(db, who, ref)
            return mgr.registered_json(ds, mgr.register(db, ctx.runner, ctx.layout, who, ds, body))

        out = await self.call(register)
        self.set_header(
            "Location",
            f"{ctx.base_path}api/v1/datasets/{out['dataset_id']}/versions/{out['number']}",
        )
        self.write_json(out, status=202)


class VersionHandler(VersionsBase):
    async def get(self, ref: str, selector: str) -> None:
        def one(db):  # type: ignore[no-untyped-def]
            ds, row = mgr.read_one(db, self.identity, ref, selector)
            return mgr.to_json(db, ds, [row])[0]

        self.write_json(await self.call(one))

    async def delete(self, ref: str, selector: str) -> None:
        who, ctx = self.identity, self.ctx

        def delete(db):  # type: ignore[no-untyped-def]
            ds = datasets_mgr.resolve(db, who, ref)
            v = mgr.select_version(db, ds, selector)
            return v.ref, mgr.delete(db, ctx.runner, ctx.layout, who, ds, v)

        ref_text, outcome = await self.call(delete)
        if outcome == "cancelling":
            self.write_json({"ref": ref_text, "status": "cancelling"}, status=202)
        else:
            self.set_status(204)
            self.finish()


class ManifestHandler(VersionsBase):
    async def get(self, ref: str, selector: str) -> None:
        limit, cursor = self.page_args()
        layout = self.ctx.layout
        self.write_json(
            await self.call(
                lambda db: mgr.manifest(
                    layout, self.version(db, ref, selector), limit=limit, cursor=cursor
                )
            )
        )


class VerifyHandler(VersionsBase):
    async def post(self, ref: str, selector: str) -> None:
        who, runner = self.identity, self.ctx.runner

        def verify(db):  # type: ignore[no-untyped-def]
            v = self.version(db, ref, selector)
            return job_json(mgr.start_verify(db, runner, who, v), v.ref)

        self.accepted(await self.call(verify))


class RestoreHandler(VersionsBase):
    async def post(self, ref: str, selector: str) -> None:
        body, who, ctx = self.body("Restore"), self.identity, self.ctx

        def restore(db):  # type: ignore[no-untyped-def]
            v = self.version(db, ref, selector)
            return job_json(mgr.start_restore(db, ctx.runner, ctx.layout, who, v, body), v.ref)

        self.accepted(await self.call(restore))
