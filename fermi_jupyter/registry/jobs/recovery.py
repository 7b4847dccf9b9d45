"""Who is still running a job, and what to do with a job whose registry process is gone.

A worker is named ``host/boot:pid``. On the same host the process table answers whether it
lives (``boot`` tells a restarted container's PID 1 from its previous life); for another host
its heartbeat does. A job left by a dead worker is put back in the queue and resumes — a
restart is never the user's error — except that a job the registry died *while running*
``max_crashes`` times is parked (failed, with a message), so one tree that crashes the registry
cannot keep crashing it. A registry stopped on purpose marks its jobs ``stopping`` first: those
resume without counting a crash.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ...domain.states import JobKind, JobState, VersionStatus, job_move, version_move
from ..orm import Job, Version, utcnow
from . import history
from .progress import STOPPING, is_stale

_boot: tuple[int, str] = (0, "")


def worker_name() -> str:
    """``host/boot:pid``; ``boot`` is drawn once per process (also after a fork) and tells this
    process from an earlier one that had the same pid (PID 1 of a restarted container)."""
    global _boot
    if _boot[0] != os.getpid():
        _boot = (os.getpid(), secrets.token_hex(4))
    return f"{socket.gethostname()}/{_boot[1]}:{os.getpid()}"


def worker_alive(worker: str, me: str) -> bool | None:
    """True/False for a worker on this host; None for another host (ask its heartbeat)."""
    ident, _, pid = worker.rpartition(":")
    host = ident.partition("/")[0]  # older registries wrote host:pid
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if worker == me:
        return True
    if int(pid) == os.getpid():
        return False  # our pid, another boot: that process is gone (a restarted container)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """Killed but not yet reaped by its parent (a hub polls its services every 30 s)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def judge(job: Job, me: str, active: set[int], stale_after: float) -> str | None:
    """Why a running job needs recovering — ``orphan`` (ours, but no thread runs it: its
    result could not be recorded), ``stopped`` (its registry stopped on purpose) or ``crash``
    (its registry died) — or None to leave it to its worker."""
    if job.worker is None:
        return None
    if job.worker == me:
        return None if job.id in active else "orphan"
    alive = worker_alive(job.worker, me)
    if alive is None:
        alive = not is_stale(job.heartbeat_at, stale_after)
    if alive:
        return None
    return "stopped" if job.phase == STOPPING else "crash"


@dataclass
class Decision:
    """What recovery did to one job: ``requeued``, ``parked``, ``failed`` or ``cancelled``."""

    outcome: str
    job_id: int
    version_id: int | None


def park_message(crashes: int) -> str:
    return (
        f"the registry stopped {crashes} times in a row while running this job, so it was set "
        "aside to keep the registry up; check the source folder for anything unusual and "
        "register it again, or ask an admin to look at the registry's logs"
    )


def recover_job(
    db: Session, job: Job, why: str, *, max_crashes: int, max_attempts: int
) -> Decision:
    """Apply recovery to ``job`` (loaded in ``db``, committed by the caller)."""
    v = db.get(Version, job.version_id) if job.version_id else None
    register = job.kind == JobKind.register.value and v is not None
    if job.state == JobState.cancelling.value:
        return _end(job, v if register else None, JobState.cancelled, "cancelled", None)
    if why == "crash":
        job.crashes += 1
        if job.crashes >= max_crashes:
            msg = park_message(job.crashes)
            return _end(job, v if register else None, JobState.failed, "parked", msg, "parked")
    elif why == "orphan":
        job.failures += 1
        if job.failures >= max_attempts:
            msg = "the registry could not record this job's result (database unavailable)"
            return _end(job, v if register else None, JobState.failed, "failed", msg)
    job.state = job_move(job.state, JobState.queued).value
    job.worker = job.heartbeat_at = job.phase = None
    event = {"crash": "crashed", "stopped": "interrupted", "orphan": "attempt-failed"}[why]
    history.add(job, event)
    if register and v.status == VersionStatus.processing.value:
        v.status = version_move(v.status, VersionStatus.pending).value
        v.phase = None
    return Decision("requeued", job.id, v.id if v else None)


def _end(
    job: Job,
    v: Version | None,
    state: JobState,
    event: str,
    message: str | None,
    outcome: str | None = None,
) -> Decision:
    job.state = job_move(job.state, state).value
    job.error, job.finished_at, job.phase = message, utcnow(), None
    history.add(job, event, message)
    if v is not None:
        status = VersionStatus.cancelled if state == JobState.cancelled else VersionStatus.failed
        v.status = version_move(v.status, status).value
        v.error = None if status == VersionStatus.cancelled else message
        v.phase = None
    return Decision(outcome or state.value, job.id, v.id if v else None)
