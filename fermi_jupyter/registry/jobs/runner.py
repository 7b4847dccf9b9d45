"""Runs jobs on a thread pool; state lives in the database so a restart can recover.

A job is claimed with one conditional UPDATE, so several registry processes sharing a
PostgreSQL database never run the same job twice. A running job writes a heartbeat; at
start-up (and periodically) jobs whose worker died are cleaned up and retried once, then failed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from .. import metrics, storage
from ..errors import RegistryError
from ..events import Publisher
from ..orm import Dataset, Job, Version, utcnow
from ..serialize import progress_json
from .progress import JobProgress, is_stale
from .tasks import TASKS

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(worker: str | None) -> bool:
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another host: trust its heartbeat instead
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    ):
        self.sessions = sessions
        self.layout = layout
        self.publish = publish
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.worker = worker_name()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fermi-job")
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._started_at = time.time()

    # -- public -----------------------------------------------------------------------------
    def submit(self, job_id: int) -> None:
        self._pool.submit(self._run, job_id)

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop, whichever process runs it (the heartbeat reads the flag)."""
        with self.sessions() as db:
            db.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == "queued")
                .values(state="cancelling")
            )
            db.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == "running")
                .values(state="cancelling")
            )
            db.commit()
        with self._lock:
            ev = self._cancels.get(job_id)
        if ev:
            ev.set()
        else:
            self.submit(job_id)  # a queued job: let a worker finish the cancellation

    def recover(self) -> int:
        """Requeue or fail jobs left behind by a dead worker. Returns how many were touched."""
        touched = 0
        with self.sessions() as db:
            jobs = list(
                db.scalars(select(Job).where(Job.state.in_(("queued", "running", "cancelling"))))
            )
            for job in jobs:
                if job.state == "queued" or (job.state == "cancelling" and job.worker is None):
                    self.submit(job.id)
                    continue
                if job.worker == self.worker and job.id in self._cancels:
                    continue
                dead = not _pid_alive(job.worker) or is_stale(job.heartbeat_at, self.stale_after)
                if not dead:
                    continue
                touched += 1
                self._reset_dead(db, job)
            db.commit()
        return touched

    def _reset_dead(self, db: Session, job: Job) -> None:
        v = db.get(Version, job.version_id) if job.version_id else None
        if job.kind == "register" and v is not None:
            storage.cleanup_partial(self.layout, v.dataset_id, v.number)
        if job.state == "cancelling" or job.attempts >= self.max_attempts:
            reason = (
                "cancelled"
                if job.state == "cancelling"
                else "the registry stopped while this job was running"
            )
            job.state = "cancelled" if job.state == "cancelling" else "failed"
            job.error, job.finished_at = reason, utcnow()
            if v is not None and job.kind == "register":
                v.status = "cancelled" if job.state == "cancelled" else "failed"
                v.error = None if job.state == "cancelled" else reason + "; register it again"
                self._publish_version(db, v)
            log.warning("job %s %s after a dead worker", job.id, job.state)
        else:
            job.state, job.worker = "queued", None
            if v is not None and job.kind == "register":
                v.status, v.files_done, v.bytes_done = "pending", 0, 0
                self._publish_version(db, v)
            log.warning("job %s requeued after a dead worker (attempt %s)", job.id, job.attempts)
            db.flush()
            self.submit(job.id)

    def shutdown(self, wait: bool = False) -> None:
        with self._lock:
            for ev in self._cancels.values():
                ev.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # -- internals --------------------------------------------------------------------------
    def _claim(self, db: Session, job_id: int) -> Job | None:
        now = utcnow()
        res = db.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(
                state="running",
                worker=self.worker,
                started_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
        )
        db.commit()
        if res.rowcount != 1:
            return None
        return db.get(Job, job_id)

    def _finish_cancelled_queue(self, db: Session, job_id: int) -> None:
        job = db.get(Job, job_id)
        if job is None or job.state != "cancelling" or job.worker is not None:
            return
        job.state, job.finished_at = "cancelled", utcnow()
        v = db.get(Version, job.version_id) if job.version_id else None
        if v is not None and job.kind == "register":
            v.status = "cancelled"
            self._publish_version(db, v)
        db.commit()

    def _run(self, job_id: int) -> None:
        try:
            with self.sessions() as db:
                self._finish_cancelled_queue(db, job_id)
                job = self._claim(db, job_id)
                if job is None:
                    return
                self._execute(db, job)
        except Exception:  # a bug, not bad input: keep the worker alive and say so
            log.exception("job %s crashed", job_id)

    def _execute(self, db: Session, job: Job) -> None:
        v = db.get(Version, job.version_id) if job.version_id else None
        cancel = threading.Event()
        with self._lock:
            self._cancels[job.id] = cancel
        ds = db.get(Dataset, v.dataset_id) if v else None
        progress = JobProgress(
            self.sessions,
            job.id,
            v.id if (v and job.kind == "register") else None,
            self.publish,
            self._event_base(ds, v, job),
            cancel,
        )
        if v is not None and job.kind == "register":
            v.status, v.error = "processing", None
            self._publish_version(db, v)
        db.commit()
        started = time.monotonic()
        metrics.JOBS_RUNNING.inc()
        try:
            job.result = TASKS[job.kind](self.layout, db, job, v, progress, cancel)
            job.state = "done"
        except storage.Cancelled:
            db.rollback()
            job.state, job.error = "cancelled", "cancelled"
            if v is not None and job.kind == "register":
                v.status, v.error = "cancelled", None
        except (storage.StorageError, RegistryError) as e:
            db.rollback()
            job.state, job.error = "failed", str(e)
            if v is not None and job.kind == "register":
                v.status, v.error = "failed", str(e)
        except Exception as e:
            log.exception("job %s failed unexpectedly", job.id)
            db.rollback()
            job.state, job.error = "failed", f"internal error ({type(e).__name__}); see the logs"
            if v is not None and job.kind == "register":
                v.status, v.error = "failed", job.error
        finally:
            metrics.JOBS_RUNNING.dec()
            with self._lock:
                self._cancels.pop(job.id, None)
        if job.kind == "register" and v is not None and v.status != "ready":
            storage.cleanup_partial(self.layout, v.dataset_id, v.number)
        job.finished_at = utcnow()
        if progress.last is not None:
            job.files_done, job.bytes_done = progress.last.files_done, progress.last.bytes_done
            job.files_total, job.bytes_total = progress.last.files_total, progress.last.bytes_total
        db.commit()
        metrics.JOBS.labels(job.kind, job.state).inc()
        metrics.JOB_SECONDS.labels(job.kind).observe(time.monotonic() - started)
        if job.kind == "register" and v is not None and v.new_bytes:
            metrics.BYTES_STORED.inc(v.new_bytes)
        if v is not None:
            self._publish_version(db, v, job=job)

    def _event_base(self, ds: Dataset | None, v: Version | None, job: Job) -> dict:
        base: dict = {"type": "version", "job_id": job.id, "job_kind": job.kind}
        if v is not None:
            base.update(dataset_id=v.dataset_id, number=v.number, ref=v.ref)
        if ds is not None:
            base.update(dataset_name=ds.name, _acl=(ds.owner, ds.team, ds.visibility))
        return base

    def _publish_version(self, db: Session, v: Version, job: Job | None = None) -> None:
        ds = db.get(Dataset, v.dataset_id)
        event = {
            "type": "version",
            "dataset_id": v.dataset_id,
            "dataset_name": ds.name if ds else None,
            "number": v.number,
            "ref": v.ref,
            "status": v.status,
            "error": v.error,
            "progress": progress_json(v),
            "_acl": (ds.owner, ds.team, ds.visibility) if ds else None,
        }
        if job is not None:
            event.update(job_id=job.id, job_kind=job.kind, job_state=job.state)
        self.publish(event)
