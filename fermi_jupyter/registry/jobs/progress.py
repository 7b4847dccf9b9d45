"""Turns storage progress into events, database heartbeats, phases and cancellation.

Every phase of a job is published the moment it starts — counting, copying, sealing,
publishing — so a progress bar that reached 100 % still says what is going on. The storage
engine may name its own phase (``Progress.phase``); otherwise it is inferred from the counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ...domain.states import JobKind, JobState, Mode, VersionStatus
from .. import storage
from ..events import Publisher
from ..orm import Job, Version, utcnow
from .pause import PausePoints

log = logging.getLogger(__name__)

# what each kind of job does between counting and sealing
WORK_PHASE = {
    JobKind.register: "copying",
    JobKind.verify: "checking",
    JobKind.restore: "restoring",
    JobKind.transfer: "transferring",
}


def work_phase(kind: str, mode: str) -> str:
    if kind == JobKind.register and mode == Mode.reference:
        return "hashing"
    return WORK_PHASE[JobKind(kind)]


STARTING, SEALING, PUBLISHING = "starting", "sealing", "publishing"
STOPPING = "stopping"  # the registry is being stopped on purpose: resume, count no crash
LIVE = (JobState.running.value, JobState.cancelling.value)
# a phase change is written at once only this long after the last write: a small job goes
# through all its phases in a few milliseconds, and writing each (two UPDATEs and a commit,
# queued behind every other writer on SQLite) cost more than the job. Events still carry every
# phase at once; the job's last word is written by the runner when it ends.
PHASE_GAP = 0.2


class JobProgress:
    """Called by storage code on a worker thread. Writes to the database at most every
    ``interval`` seconds and on a phase change (at most every ``PHASE_GAP``: a change that
    comes sooner is written with the next report); that write is also the heartbeat, and it
    notices a cancel asked for by any registry process, or that another process took the job
    over (then ``lost`` is set and the work is stopped without touching anything)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_id: int,
        version_id: int | None,
        worker: str,
        publish: Publisher,
        event_base: dict,
        cancel: threading.Event,
        *,
        work_phase: str = "copying",
        pauses: PausePoints | None = None,
        stopping: threading.Event | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sessions = sessions
        self.job_id = job_id
        self.version_id = version_id
        self.worker = worker
        self.publish = publish
        self.event_base = event_base
        self.cancel = cancel
        self.work_phase = work_phase
        self.pauses = pauses or PausePoints()
        self.stopping = stopping or threading.Event()
        self.interval = interval
        self.clock = clock
        self.phase = STARTING
        self.last: storage.Progress | None = None
        self.lost = False
        self._lock = threading.Lock()
        self._last_write = clock()  # the claim has just written phase and heartbeat
        self._unwritten = False  # a phase change waits for PHASE_GAP
        self._db_down_since: float | None = None
        self._copying = False

    # -- called by storage ------------------------------------------------------------------
    def __call__(self, p: storage.Progress) -> None:
        phase = getattr(p, "phase", None) or self._infer(p)
        with self._lock:
            self.last = p
            if phase != self.phase:
                self.phase, self._unwritten = phase, True
            due = self._due()
        self._publish(p, phase)
        if due:
            self.write()
        if (
            not self._copying
            and p.files_done > 0
            and (p.files_total is None or p.files_done < p.files_total)
        ):
            self._copying = True  # storage reports its first stored file at once: no timing
            self.pauses.at("copying", self.job_id)

    def _infer(self, p: storage.Progress) -> str:
        if p.files_total is None:  # the walk goes on while files are stored: no counting pass
            return self.work_phase
        if p.files_done >= p.files_total:
            return SEALING if self.work_phase == "copying" else PUBLISHING
        return self.work_phase

    # -- called by the runner ---------------------------------------------------------------
    def set_phase(self, phase: str) -> None:
        """A phase the runner itself enters (starting, publishing): published now, and written
        like any phase change."""
        with self._lock:
            if phase != self.phase:
                self.phase, self._unwritten = phase, True
            due = self._due()
        self._publish(self.last, phase)
        if due:
            self.write()

    def _due(self) -> bool:
        """Whether to write now (under the lock): a heartbeat is due, or a phase change waits
        and the last write is ``PHASE_GAP`` old."""
        now = self.clock()
        since = now - self._last_write
        due = since >= self.interval or (self._unwritten and since >= PHASE_GAP)
        if due:
            self._last_write, self._unwritten = now, False
        return due

    def counts(self) -> dict[str, int | None]:
        p = self.last
        if p is None:
            return {}
        return {
            "files_done": p.files_done,
            "bytes_done": p.bytes_done,
            "files_total": p.files_total,
            "bytes_total": p.bytes_total,
        }

    def _publish(self, p: storage.Progress | None, phase: str) -> None:
        counts = self.counts() if p is not None else {}
        self.publish(
            {
                **self.event_base,
                "status": VersionStatus.processing.value,
                "progress": {
                    "files_done": counts.get("files_done", 0),
                    "files_total": counts.get("files_total"),
                    "bytes_done": counts.get("bytes_done", 0),
                    "bytes_total": counts.get("bytes_total"),
                    "phase": phase,
                },
            }
        )

    def write(self) -> None:
        """The heartbeat. A database that is away only delays it: the job goes on, and the
        final result is recorded with retries (jobs/retry.py)."""
        if self.stopping.is_set():
            return  # the registry is stopping: its last word on this job is already written
        values = {**self.counts(), "phase": self.phase}
        try:
            with self.sessions() as db:
                row = db.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.worker == self.worker, Job.state.in_(LIVE))
                    .values(heartbeat_at=utcnow(), **values)
                    .returning(Job.state)
                ).first()
                if row is not None and self.version_id is not None:
                    db.execute(
                        update(Version).where(Version.id == self.version_id).values(**values)
                    )
                db.commit()
        except DBAPIError as e:
            now = time.monotonic()
            if self._db_down_since is None:
                self._db_down_since = now
                log.warning("job %s: cannot write progress (%s); going on", self.job_id, e.orig)
            return
        if self._db_down_since is not None:
            log.info(
                "job %s: database back after %.1fs",
                self.job_id,
                time.monotonic() - self._db_down_since,
            )
            self._db_down_since = None
        if row is None:
            # another process recovered this job (our heartbeat looked dead): stop, touch nothing
            log.warning("job %s was taken over by another registry process", self.job_id)
            self.lost = True
            self.cancel.set()
        elif row[0] == JobState.cancelling.value:
            self.cancel.set()


def is_stale(heartbeat, stale_after: float) -> bool:  # type: ignore[no-untyped-def]
    if heartbeat is None:
        return True
    if heartbeat.tzinfo is None:  # SQLite hands back naive datetimes even for timezone=True
        heartbeat = heartbeat.replace(tzinfo=timezone.utc)
    return utcnow() - heartbeat > timedelta(seconds=stale_after)
