"""Runs jobs on a thread pool; their state lives in the database so any restart resumes them.

One attempt of a job: claim it (an optimistic-locked update, so several registry processes
sharing a database never run it twice), read what it needs, do the storage work with no
database connection held, record the result — that last transaction retried through database
blips (jobs/retry.py). The job's history tells its owner what happened (jobs/history.py).

A registry that dies leaves its jobs ``running``; the next one to look (at start-up, then every
``recover_interval``) puts them back in the queue (jobs/recovery.py). A registry stopped on
purpose does not wait for its jobs: it marks them and exits, and they resume elsewhere
keeping what they stored (``stop``).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ...domain.states import (
    JOB_ACTIVE,
    JobKind,
    JobState,
    VersionStatus,
    job_move,
    version_move,
)
from .. import metrics, storage
from ..errors import RegistryError
from ..events import Publisher
from ..orm import Dataset, Job, Version, Volume, utcnow
from ..serialize import progress_json
from ..storage import sealed
from . import history
from .pause import PausePoints
from .progress import LIVE, PUBLISHING, STARTING, STOPPING, JobProgress, work_phase
from .recovery import Decision, judge, recover_job, worker_name
from .retry import transaction
from .tasks import TASKS, Plan

log = logging.getLogger(__name__)
ACTIVE = tuple(s.value for s in JOB_ACTIVE)
FAILED, CANCELLED = JobState.failed.value, JobState.cancelled.value
REGISTER = JobKind.register.value  # the only kind that moves its version's status
Begun = tuple["Attempt | None", "dict[str, Any] | None"]  # what to run, what to publish


def request_cancel(sessions: sessionmaker[Session], job_id: int) -> None:
    """Record that a job's owner wants it stopped (its heartbeat reads the flag)."""

    def ask(db: Session) -> None:
        job = db.get(Job, job_id)
        if job is not None and job.state in (JobState.queued.value, JobState.running.value):
            job.state = job_move(job.state, JobState.cancelling).value
            history.add(job, "cancel-requested")

    transaction(sessions, ask, what=f"cancelling job {job_id}", seconds=5.0)


def _load(db: Session, job_id: int, *, with_volume: bool = False) -> Row[Any] | None:
    """The job, its version and that version's dataset (and source volume), in one statement,
    as a row (None: no such job). While the caller holds the row, a ``db.get`` of any of them
    is answered from the session without a query (its identity map holds objects weakly)."""
    stmt = (
        select(Job, Version, Dataset)
        .outerjoin(Version, Version.id == Job.version_id)
        .outerjoin(Dataset, Dataset.id == Version.dataset_id)
        .where(Job.id == job_id)
    )
    if with_volume:
        stmt = stmt.add_columns(Volume).outerjoin(Volume, Volume.id == Version.source_volume_id)
    return db.execute(stmt).first()


@dataclass
class Attempt:
    """A claimed job, as plain data (no ORM objects cross sessions)."""

    job_id: int
    kind: str
    version_id: int | None
    plan: Plan
    event_base: dict[str, Any]


class JobRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        layout: storage.StorageLayout,
        publish: Publisher,
        *,
        workers: int = 2,
        stale_after: float = 60.0,
        max_attempts: int = 2,
        max_crashes: int = 3,
        commit_retry_seconds: float = 60.0,
        pause_dir: str | None = None,
    ):
        self.sessions = sessions
        self.layout = layout
        self.publish = publish
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.max_crashes = max_crashes
        self.commit_retry_seconds = commit_retry_seconds
        self.pauses = PausePoints(pause_dir)
        self.worker = worker_name()
        # this runner's own table: the app adds its transfer service's task to it (a table
        # shared by the process would hand one registry's transfers to another's service)
        self.tasks = dict(TASKS)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fermi-job")
        self._active: dict[int, threading.Event] = {}  # job id → its cancel flag
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- public -----------------------------------------------------------------------------
    def submit(self, job_id: int) -> None:
        with self._lock:
            if self._stopping.is_set() or job_id in self._queued or job_id in self._active:
                return
            self._queued.add(job_id)
        self._pool.submit(self._run, job_id)

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop, whichever process runs it (its heartbeat reads the flag)."""
        request_cancel(self.sessions, job_id)
        self.cancel_here(job_id)

    def cancel_here(self, job_id: int) -> None:
        """A cancel already recorded: stop the job at once if it runs here; let a worker end it
        if it is still queued."""
        with self._lock:
            ev = self._active.get(job_id)
        if ev:
            ev.set()
        else:
            self.submit(job_id)  # a queued job: let a worker finish the cancellation

    def recover(self) -> int:
        """Queue unclaimed jobs and recover those left by a dead worker (or by a thread of ours
        that could not record its result). Returns how many were recovered."""
        if self._stopping.is_set():
            return 0
        with self.sessions() as db:
            jobs = list(db.scalars(select(Job).where(Job.state.in_(ACTIVE)).order_by(Job.id)))
        # read after the jobs: a thread joins ``_active`` before its claim commits, so a job we
        # saw claimed by us and find missing here really has no thread. Read before, a claim
        # landing in between made a running job look orphaned (requeued as a failed attempt)
        with self._lock:
            active = set(self._active)
        touched = 0
        for job in jobs:
            if job.state == JobState.queued.value or job.worker is None:
                self.submit(job.id)
                continue
            why = judge(job, self.worker, active, self.stale_after)
            if why is None:
                continue
            decision = transaction(
                self.sessions,
                lambda db, j=job, w=why: self._recover_one(db, j.id, j.worker, w),
                what=f"recovering job {job.id}",
                seconds=5.0,
            )
            if decision is None:
                continue
            touched += 1
            log.warning("job %s %s after %s", job.id, decision.outcome, why)
            if decision.outcome == "requeued":
                self.submit(job.id)
            else:
                self._discard_version_files(decision.version_id)
            self._publish_version_by_id(decision.version_id, decision.job_id)
        return touched

    def stop(self) -> int:
        """Crash-only stop for a registry shutting down: no new work, and each running job is
        marked ``stopping`` so whichever registry starts next resumes it without counting a
        crash. The jobs are not waited for — waiting would take as long as they do, and
        cancelling them would throw away what they copied; the caller exits the process.
        Returns how many jobs were running."""
        self._stopping.set()
        with self._lock:
            ids = list(self._active)
        if not ids:
            return 0
        try:
            with self.sessions() as db:
                db.execute(
                    update(Job)
                    .where(Job.id.in_(ids), Job.worker == self.worker, Job.state.in_(LIVE))
                    .values(phase=STOPPING, heartbeat_at=None)
                )
                db.commit()
        except DBAPIError as e:  # then the next registry counts it as a crash: still resumed
            log.warning("could not mark running jobs as stopping: %s", e.orig)
        return len(ids)

    @property
    def stopping(self) -> bool:
        """The registry is stopping: work ends as interrupted, to be resumed, not cancelled."""
        return self._stopping.is_set()

    def shutdown(self, wait: bool = False) -> None:
        """Stop in-process (tests, embedding): running jobs stop at their next progress check
        and go back to the queue, resumed by the next runner on this database."""
        self._stopping.set()
        with self._lock:
            for ev in self._active.values():
                ev.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # -- one attempt ------------------------------------------------------------------------
    def _run(self, job_id: int) -> None:
        with self._lock:
            self._queued.discard(job_id)
            if self._stopping.is_set() or job_id in self._active:
                return
            # registered before the claim, so recovery never takes it for an orphan
            cancel = self._active[job_id] = threading.Event()
        try:
            self._attempt(job_id, cancel)
        except Exception:  # a bug or a database away for long: recovery picks the job up
            log.exception("job %s: the attempt ended without recording a result", job_id)
        finally:
            with self._lock:
                self._active.pop(job_id, None)

    def _attempt(self, job_id: int, cancel: threading.Event) -> None:
        attempt, ended = transaction(
            self.sessions,
            lambda db: self._begin(db, job_id),
            what=f"starting job {job_id}",
            seconds=self.commit_retry_seconds,
        )
        if ended is not None:  # cancelled while queued, or could not start
            self.publish(ended)
        if attempt is None:
            return
        progress = JobProgress(
            self.sessions,
            job_id,
            attempt.version_id if attempt.kind == REGISTER else None,
            self.worker,
            self.publish,
            attempt.event_base,
            cancel,
            work_phase=work_phase(attempt.kind, attempt.plan.mode),
            pauses=self.pauses,
            stopping=self._stopping,
        )
        progress.set_phase(STARTING)
        outcome: Any = None
        end, message = "done", None
        started = time.monotonic()
        metrics.JOBS_RUNNING.inc()
        try:
            outcome = self.tasks[attempt.kind].work(self.layout, attempt.plan, progress, cancel)
        except storage.Cancelled:
            end = "lost" if progress.lost else "stopped" if self._stopping.is_set() else "cancelled"
        except (storage.StorageError, RegistryError) as e:
            end, message = "failed", str(e)
        except Exception as e:
            log.exception("job %s failed unexpectedly", job_id)
            end, message = "error", f"internal error ({type(e).__name__}); see the registry logs"
        finally:
            metrics.JOBS_RUNNING.dec()
        if end == "lost":
            return  # another process runs it now: touch neither its files nor its record
        if end == "done":
            progress.set_phase(PUBLISHING)
            self.pauses.at("stored", job_id)
        event = transaction(
            self.sessions,
            lambda db: self._end(db, attempt, end, outcome, message, progress),
            what=f"recording the result of job {job_id}",
            seconds=self.commit_retry_seconds,
        )
        if event is None:
            return
        state = event["job_state"]
        if state != JobState.queued.value:  # finished, not put back for another attempt
            metrics.JOBS.labels(attempt.kind, state).inc()
            metrics.JOB_SECONDS.labels(attempt.kind).observe(time.monotonic() - started)
        if attempt.kind == REGISTER and state in (FAILED, CANCELLED):
            self._discard_version_files(attempt.version_id, attempt.plan)
        if state == JobState.done.value and attempt.kind == REGISTER and outcome.new_bytes:
            metrics.BYTES_STORED.inc(outcome.new_bytes)
        self.publish(event)
        if state == JobState.queued.value and not self._stopping.is_set():
            self.submit(job_id)  # a failed attempt with attempts left

    def _begin(self, db: Session, job_id: int) -> Begun:
        """Claim a queued job and read its plan (one transaction). No attempt when there is
        nothing to run: taken by another process, finished, or ended before it could start
        (then with an event to publish)."""
        loaded = _load(db, job_id, with_volume=True)  # held: the gets below need no query
        job = loaded[0] if loaded is not None else None
        if job is None:
            return None, None
        v = db.get(Version, job.version_id) if job.version_id else None
        if job.state == JobState.cancelling.value and job.worker is None:
            # cancelled before any worker took it
            job.state = job_move(job.state, JobState.cancelled).value
            job.finished_at = utcnow()
            history.add(job, "cancelled")
            if v is not None and job.kind == REGISTER:
                v.status = version_move(v.status, VersionStatus.cancelled).value
            return None, self._event(db, v, job)
        if job.state != JobState.queued.value or self._stopping.is_set():
            return None, None  # (a stopping registry claims nothing more)
        now = utcnow()
        job.state = job_move(job.state, JobState.running).value
        job.worker, job.started_at, job.heartbeat_at, job.phase = self.worker, now, now, STARTING
        job.attempts += 1
        job.error = None
        history.add(job, history.start_event(job))
        if v is None and self.tasks[job.kind].needs_version:
            self._fail(job, None, "its version was deleted")
            return None, self._event(db, v, job)
        if job.kind == REGISTER and v is not None:
            v.status = version_move(v.status, VersionStatus.processing).value
            v.error, v.phase = None, STARTING
        try:
            plan = self.tasks[job.kind].prepare(self.layout, db, job, v)
        except (storage.StorageError, RegistryError) as e:
            self._fail(job, v, str(e))
            return None, self._event(db, v, job)
        ds = db.get(Dataset, v.dataset_id) if v is not None else None
        attempt = Attempt(job.id, job.kind, v.id if v else None, plan, self._event_base(ds, v, job))
        return attempt, None

    def _end(
        self,
        db: Session,
        attempt: Attempt,
        end: str,
        outcome: Any,
        message: str | None,
        progress: JobProgress,
    ) -> dict[str, Any] | None:
        """Record how the attempt ended. Runs again on a database blip: returns None when an
        earlier try already recorded it (or another process took the job over)."""
        loaded = _load(db, attempt.job_id)  # held: the gets below need no query
        job = loaded[0] if loaded is not None else None
        if job is None or job.worker != self.worker or job.state not in LIVE:
            return None
        if end == "done":
            self.pauses.at("publishing", job.id)
        v = db.get(Version, job.version_id) if job.version_id else None
        if job.state == JobState.cancelling.value and end != "done":
            end = "cancelled"
        if end == "done":
            if v is None and self.tasks[job.kind].needs_version:
                self._fail(job, None, "its version was deleted while it ran")
            else:
                job.result = self.tasks[job.kind].finish(db, job, v, attempt.plan, outcome)
                job.state = job_move(job.state, JobState.done).value
                history.add(job, "done")
        elif end == "cancelled":
            job.state = job_move(job.state, JobState.cancelled).value
            job.error = "cancelled"
            history.add(job, "cancelled")
            if v is not None and job.kind == REGISTER:
                v.status = version_move(v.status, VersionStatus.cancelled).value
                v.error = v.phase = None
        elif end == "error" and job.failures + 1 < self.max_attempts:
            job.failures += 1
            self._requeue(job, v, "attempt-failed", message)
        elif end == "stopped":
            self._requeue(job, v, "interrupted", None)
        else:
            if end == "error":
                job.failures += 1
            self._fail(job, v, message or "failed")
        # (after finish: its flush would write the job's row twice)
        job.phase = None
        if job.state != JobState.queued.value:
            job.finished_at = utcnow()
        counts = progress.counts()
        if counts:
            for k, value in counts.items():
                setattr(job, k, value)
        return self._event(db, v, job)

    # -- state changes ----------------------------------------------------------------------
    def _fail(self, job: Job, v: Version | None, message: str) -> None:
        job.state = job_move(job.state, JobState.failed).value
        job.error, job.finished_at, job.phase = message, utcnow(), None
        history.add(job, "failed", message)
        if v is not None and job.kind == REGISTER:
            v.status = version_move(v.status, VersionStatus.failed).value
            v.error, v.phase = message, None

    def _requeue(self, job: Job, v: Version | None, event: str, message: str | None) -> None:
        job.state = job_move(job.state, JobState.queued).value
        job.worker = job.heartbeat_at = job.phase = None
        history.add(job, event, message and f"{history.MESSAGES[event]}: {message}")
        if v is not None and job.kind == REGISTER:
            v.status = version_move(v.status, VersionStatus.pending).value
            v.phase = None

    def _recover_one(self, db: Session, job_id: int, seen: str | None, why: str) -> Decision | None:
        job = db.get(Job, job_id)
        if job is None or job.state not in LIVE or job.worker != seen:
            return None  # it moved on since we looked
        return recover_job(
            db, job, why, max_crashes=self.max_crashes, max_attempts=self.max_attempts
        )

    def _discard_version_files(self, version_id: int | None, plan: Plan | None = None) -> None:
        """A registration that ended without a version: remove what it built on disk."""
        if plan is None:
            with self.sessions() as db:
                v = db.get(Version, version_id) if version_id else None
                if v is None or v.status not in (FAILED, CANCELLED):
                    return
                ds_id, n = v.dataset_id, v.number
        else:
            ds_id, n = plan.dataset_id, plan.number
        try:
            storage.cleanup_partial(self.layout, ds_id, n)
            sealed.discard(self.layout, ds_id, n)
        except OSError:
            log.exception("could not remove the files of %s@%s", ds_id, n)

    # -- events -----------------------------------------------------------------------------
    def _event_base(self, ds: Dataset | None, v: Version | None, job: Job) -> dict[str, Any]:
        if v is None:  # a transfer
            return {"type": "job", "job_id": job.id, "job_kind": job.kind}
        base: dict[str, Any] = {
            "type": "version",
            "job_id": job.id,
            "job_kind": job.kind,
            "dataset_id": v.dataset_id,
            "number": v.number,
            "ref": v.ref,
        }
        if ds is not None:
            base.update(dataset_name=ds.name, _acl=(ds.owner, ds.team, ds.visibility))
        return base

    def _version_event(self, db: Session, v: Version, job: Job) -> dict[str, Any]:
        ds = db.get(Dataset, v.dataset_id)
        return {
            "type": "version",
            "dataset_id": v.dataset_id,
            "dataset_name": ds.name if ds else None,
            "number": v.number,
            "ref": v.ref,
            "status": v.status,
            "error": v.error,
            "progress": progress_json(v),
            "_acl": (ds.owner, ds.team, ds.visibility) if ds else None,
            "job_id": job.id,
            "job_kind": job.kind,
            "job_state": job.state,
        }

    def _event(self, db: Session, v: Version | None, job: Job) -> dict[str, Any]:
        if v is not None:
            return self._version_event(db, v, job)
        return {"type": "job", "job_id": job.id, "job_kind": job.kind, "job_state": job.state}

    def _publish_version_by_id(self, version_id: int | None, job_id: int) -> None:
        with self.sessions() as db:
            v = db.get(Version, version_id) if version_id else None
            job = db.get(Job, job_id)
            if v is not None and job is not None:
                self.publish(self._version_event(db, v, job))
