"""Versions and the work on them: register, cancel, verify, restore, delete, diff, lineage,
manifest; jobs; the audit trail and where versions are mounted."""

from __future__ import annotations

from typing import Any

from ..domain.states import IN_FLIGHT, JOB_FINISHED, JobState, VersionStatus
from ..mounts import locate
from . import bodies, checks, listing
from .base import Json, ManagerBase
from .errors import WorkspaceError
from .reasons import Reason

JOB_STATES = [s.value for s in JobState]
VERSION_STATUSES = [s.value for s in VersionStatus]


def _v(ref: str, selector: str) -> str:
    return f"/datasets/{checks.q(ref)}/versions/{checks.q(checks.selector(selector))}"


class VersionVerbs(ManagerBase):
    async def versions(
        self, ref: str, *, status: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        size = checks.limit(limit)
        checks.choice("status", status, VERSION_STATUSES)
        path = f"/datasets/{checks.q(ref)}/versions"
        page = await self.client().page(path, status=status, limit=size, cursor=cursor)
        page["items"] = [self.version_json(v) for v in page["items"]]
        return page

    async def version(self, ref: str, selector: str) -> Json:
        return self.version_json(await self.client().get_json(_v(ref, selector)))

    async def register(self, ref: str, body: Json) -> Json:
        """A folder (a local path in a mounted volume, or a volume and a path) as a new version;
        its lineage defaults to the dataset versions this server mounts."""
        volume_id, sub, common = self.registration(bodies.check(body, "VersionCreate"))
        v = await self.client().register(ref, volume_id, sub, **common)
        return self.version_json(v.raw)

    async def delete_version(self, ref: str, selector: str) -> None:
        """A finished version; one still running must be cancelled first (never deleted by a
        race with its own end)."""
        v = await self.client().version(ref, checks.selector(selector))
        if VersionStatus(v.status) in IN_FLIGHT:
            raise WorkspaceError(
                f"{v.label} is still {v.status}: cancel it first (fermi cancel {v.label})",
                Reason.not_ready,
                status=409,
            )
        await self.client().delete_version(ref, str(v.number))

    async def cancel(self, ref: str, selector: str) -> Json:
        """Stop a registration still pending or processing: the dataset's owner, an admin, or
        whoever started it may."""
        job = await self.client().cancel_version(ref, checks.selector(selector))
        return self.job_json(job.raw)

    async def verify(self, ref: str, selector: str) -> Json:
        return self.job_json((await self.client().verify(ref, checks.selector(selector))).raw)

    async def restore(self, ref: str, selector: str, body: Json) -> Json:
        """A version copied into a new folder of a volume (local path, or volume and path)."""
        body = bodies.check(body, "RestoreRequest")
        if body.get("volume_id") is not None:
            volume_id, sub = body["volume_id"], "/".join(listing.split(body["path"]))
        else:
            mount, sub = locate(body["path"], self.mounts_here(), cwd=self.cwd())
            volume_id = mount.volume_id or ""
        if not sub:
            raise WorkspaceError(
                "restore into a new folder inside the volume, e.g. /workspace/restored",
                Reason.bad_path,
            )
        job = await self.client().restore(ref, checks.selector(selector), volume_id, sub)
        return self.job_json(job.raw)

    async def diff(self, ref: str, selector: str, against: str, limit: Any = None) -> Json:
        """Files added, removed and changed from ``against`` to this version (manifests only)."""
        if not against:
            raise WorkspaceError(
                "against is required: a version number or NAME@N", Reason.invalid_parameter
            )
        size = checks.limit(limit, default=1000, maximum=10_000)
        return await self.client().diff(ref, checks.selector(selector), against, limit=size)

    async def lineage(self, ref: str, selector: str) -> Json:
        return await self.client().lineage(ref, checks.selector(selector))

    async def manifest(
        self, ref: str, selector: str, limit: Any = None, cursor: str | None = None
    ) -> Json:
        size = checks.limit(limit)
        return await self.client().manifest_page(
            ref, checks.selector(selector), limit=size, cursor=cursor
        )

    # -- jobs, audit, mount records ---------------------------------------------------------
    async def jobs(
        self, state: str | None = None, limit: Any = None, cursor: str | None = None
    ) -> Json:
        size = checks.limit(limit)
        checks.choice("state", state, JOB_STATES)
        page = await self.client().jobs_page(state, limit=size, cursor=cursor)
        page["items"] = [self.job_json(j) for j in page["items"]]
        return page

    async def job(self, job_id: str) -> Json:
        return self.job_json((await self.client().job(checks.job_id(job_id))).raw)

    async def cancel_job(self, job_id: str) -> Json:
        client = self.client()
        job = await client.job(checks.job_id(job_id))
        if JobState(job.state) in JOB_FINISHED:
            raise WorkspaceError(
                f"job {job.id} is {job.state}: nothing to cancel", Reason.not_running
            )
        return self.job_json((await client.cancel_job(job.id)).raw)

    async def audit(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        limit: Any = None,
        cursor: str | None = None,
    ) -> Json:
        """What you did, newest first (what everyone did, for an admin)."""
        return await self.client().page(
            "/audit", action=action, actor=actor, target=target, limit=checks.limit(limit),
            cursor=cursor,
        )  # fmt: skip

    async def mount_records(self, server: str | None = None) -> Json:
        """Which of your servers mount which versions, as the registry recorded at spawn."""
        return await self.client().mount_records(server)
