"""Version and job states, and the transitions allowed between them."""

from __future__ import annotations

from enum import Enum


class VersionStatus(str, Enum):
    pending = "pending"
    processing = "processing"
    ready = "ready"
    failed = "failed"
    drifted = "drifted"  # a ready reference version whose source changed since registration
    cancelled = "cancelled"


TERMINAL = {VersionStatus.ready, VersionStatus.failed, VersionStatus.cancelled}
USABLE = {VersionStatus.ready}  # what may be mounted or restored


class Mode(str, Enum):
    snapshot = "snapshot"
    reference = "reference"


class JobKind(str, Enum):
    register = "register"
    verify = "verify"
    restore = "restore"


class JobState(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


DATA_TYPES = ("text", "image", "audio", "video", "mixed", "other")
VOLUME_TYPES = {
    "ssd": "fast random reads: training inputs, many small files, checkpoints",
    "hdd": "cheap and large: archives and raw data read sequentially",
    "shared": "readable and writable from many servers at once: team collaboration",
}
