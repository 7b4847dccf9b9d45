"""Version and job states, and the transitions allowed between them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum


class InvalidTransition(ValueError):
    """A status change the lifecycle does not allow (a bug or a race lost, never user input)."""


class VersionStatus(str, Enum):
    pending = "pending"
    processing = "processing"
    ready = "ready"
    failed = "failed"
    drifted = "drifted"  # a ready reference version whose source changed since registration
    cancelled = "cancelled"


TERMINAL = {VersionStatus.ready, VersionStatus.failed, VersionStatus.cancelled}
USABLE = {VersionStatus.ready}  # what may be mounted or restored
SETTLED = {VersionStatus.ready, VersionStatus.drifted}  # files complete: manifest, verify, restore
IN_FLIGHT = {VersionStatus.pending, VersionStatus.processing}

_V = VersionStatus
VERSION_TRANSITIONS: Mapping[VersionStatus, frozenset[VersionStatus]] = {
    # a registration: queued, running (back to pending when a restart re-queues it), then done
    _V.pending: frozenset({_V.processing, _V.failed, _V.cancelled}),
    _V.processing: frozenset({_V.pending, _V.ready, _V.failed, _V.cancelled}),
    # verify: a reference version whose source changed drifts, and comes back when it matches
    _V.ready: frozenset({_V.drifted}),
    _V.drifted: frozenset({_V.ready}),
    _V.failed: frozenset(),
    _V.cancelled: frozenset(),
}


class Mode(str, Enum):
    snapshot = "snapshot"
    reference = "reference"


class JobKind(str, Enum):
    register = "register"
    verify = "verify"
    restore = "restore"
    transfer = "transfer"  # a Git / Hugging Face / S3 import or export (no version of its own)


class JobState(str, Enum):
    queued = "queued"
    running = "running"
    cancelling = "cancelling"  # asked to stop; the worker running it (or recovery) finishes it
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


JOB_ACTIVE = {JobState.queued, JobState.running, JobState.cancelling}
JOB_FINISHED = {JobState.done, JobState.failed, JobState.cancelled}

_J = JobState
JOB_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    _J.queued: frozenset({_J.running, _J.cancelling, _J.cancelled, _J.failed}),
    # running → queued: its worker died and the job is resumed by another
    _J.running: frozenset({_J.queued, _J.done, _J.failed, _J.cancelling}),
    # cancelling → done: the work finished before the cancel was seen
    _J.cancelling: frozenset({_J.cancelled, _J.done, _J.failed}),
    _J.done: frozenset(),
    _J.failed: frozenset(),
    _J.cancelled: frozenset(),
}


def version_move(current: str, to: str) -> VersionStatus:
    """The status a version may take next; raises ``InvalidTransition`` otherwise."""
    return _move(VERSION_TRANSITIONS, VersionStatus, current, to)


def job_move(current: str, to: str) -> JobState:
    """The state a job may take next; raises ``InvalidTransition`` otherwise."""
    return _move(JOB_TRANSITIONS, JobState, current, to)


def _move(table, kind, current, to):  # type: ignore[no-untyped-def]
    cur, new = kind(current), kind(to)
    if new not in table[cur]:
        raise InvalidTransition(f"{kind.__name__} {cur.value} cannot become {new.value}")
    return new


DATA_TYPES = ("text", "image", "audio", "video", "mixed", "other")
VOLUME_TYPES = {
    "ssd": "fast random reads: training inputs, many small files, checkpoints",
    "hdd": "cheap and large: archives and raw data read sequentially",
    "shared": "readable and writable from many servers at once: team collaboration",
}
