"""Turns storage progress callbacks into database heartbeats, events and cancellation."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from .. import storage
from ..events import Publisher
from ..orm import Job, Version, utcnow


class JobProgress:
    """Called from worker threads. Writes to the database at most every ``interval`` seconds
    (that write is also the heartbeat) and notices a cancel requested by any registry process."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_id: int,
        version_id: int | None,
        publish: Publisher,
        event_base: dict,
        cancel: threading.Event,
        interval: float = 1.0,
    ):
        self.sessions = sessions
        self.job_id = job_id
        self.version_id = version_id
        self.publish = publish
        self.event_base = event_base
        self.cancel = cancel
        self.interval = interval
        self._last_write = 0.0
        self.last: storage.Progress | None = None

    def __call__(self, p: storage.Progress) -> None:
        self.last = p
        self.publish(
            {
                **self.event_base,
                "status": "processing",
                "progress": {
                    "files_done": p.files_done,
                    "files_total": p.files_total,
                    "bytes_done": p.bytes_done,
                    "bytes_total": p.bytes_total,
                },
            }
        )
        now = time.monotonic()
        if now - self._last_write >= self.interval:
            self._last_write = now
            self.write(p)

    def write(self, p: storage.Progress) -> None:
        values = {
            "files_done": p.files_done,
            "bytes_done": p.bytes_done,
            "files_total": p.files_total,
            "bytes_total": p.bytes_total,
        }
        with self.sessions() as db:
            db.execute(
                update(Job).where(Job.id == self.job_id).values(heartbeat_at=utcnow(), **values)
            )
            if self.version_id is not None:
                db.execute(update(Version).where(Version.id == self.version_id).values(**values))
            state = db.scalar(select(Job.state).where(Job.id == self.job_id))
            db.commit()
        if state == "cancelling":
            self.cancel.set()


def is_stale(heartbeat, stale_after: float) -> bool:  # type: ignore[no-untyped-def]
    return heartbeat is None or utcnow() - _aware(heartbeat) > timedelta(seconds=stale_after)


def _aware(dt):  # type: ignore[no-untyped-def]
    # SQLite hands back naive datetimes even for timezone=True columns
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
