"""Cancelling a registration still pending or processing.

Who may: the dataset's owner and admins (the people who may change the dataset), and whoever
started the registration. Only the registration's job is asked to stop; a version that has
already finished is never touched (cancel is not delete).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.states import JobState
from ...domain.visibility import can_write
from .. import audit
from ..errors import Conflict, Forbidden, Reason
from ..jobs import JobRunner
from ..orm import Dataset, Job, Version
from . import versions as versions_mgr

STOPPABLE = (JobState.queued.value, JobState.running.value)


def may_cancel(who: Identity, ds: Dataset, job: Job) -> bool:
    return can_write(who, ds) or job.created_by == who.name


def cancel(db: Session, runner: JobRunner, who: Identity, ds: Dataset, v: Version) -> Job:
    """The registration's job, cancelling (or already cancelling)."""
    job = versions_mgr.active_job(db, v)
    label = f"{ds.name}@{v.number}"
    if job is None:
        raise Conflict(f"{label} is {v.status}: nothing to cancel", reason=Reason.not_running)
    if not may_cancel(who, ds, job):
        raise Forbidden(
            f"only {ds.owner} (the dataset's owner), {job.created_by} (who started it) or an "
            f"admin can cancel {label}",
            reason=Reason.not_cancellable,
        )
    if job.state in STOPPABLE:
        runner.cancel(job.id)
        audit.record(db, who, "version.cancel", v.ref, job=job.id)
        db.commit()
        db.refresh(job)
    return job
