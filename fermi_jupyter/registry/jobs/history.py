"""A job's history: what happened to it, in words its owner can read.

Stored on the job as a short JSON list, newest last. Only the process that owns the job's
current state writes it, under the job's optimistic lock (``Job.lock_version``), so two
processes never lose each other's entries.
"""

from __future__ import annotations

from typing import Any

from ..orm import Job, utcnow
from ..serialize import iso

KEEP = 50  # a job that keeps being interrupted must not grow without bound

# event → the sentence a person reads (a message given with the event is used instead)
MESSAGES = {
    "started": "started",
    # why a job went back to the queue, and what its next start is called
    "interrupted": "the registry was restarted while this job was running; it will resume",
    "crashed": "the registry stopped unexpectedly while this job was running; it will resume",
    "attempt-failed": "this attempt failed; it will be tried again",
    "resumed": "resumed after a restart",
    "retrying": "started again after a failed attempt",
    "cancel-requested": "cancel requested",
    "cancelled": "cancelled",
    "done": "finished",
    "failed": "failed",
    "parked": "set aside after the registry stopped repeatedly while running it",
}


def entry(event: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"at": iso(utcnow()), "event": event, "message": message or MESSAGES[event], **extra}


def add(job: Job, event: str, message: str | None = None, **extra: Any) -> None:
    """Append an entry (a new list: JSON columns only notice reassignment)."""
    items = [*(job.history or []), entry(event, message, **extra)]
    if len(items) > KEEP:
        items = items[:1] + items[-(KEEP - 1) :]  # keep how it began, and the recent past
    job.history = items


def start_event(job: Job) -> str:
    """What starting the job now is: its first start, a resume, or a retry."""
    last = job.history[-1]["event"] if job.history else None
    if last in ("interrupted", "crashed"):
        return "resumed"
    return "retrying" if last == "attempt-failed" else "started"
