"""Waiting for work in the registry: one polling loop for versions and jobs, used by the sync
client and by the CLI and magics (through ``workspace.sync.Workspace``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from ..domain.states import VersionStatus
from .errors import FermiError, VersionFailed
from .models import Job, Version

T = TypeVar("T")
FAILED = (VersionStatus.failed.value, VersionStatus.cancelled.value)


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    late: Callable[[T], str],
    *,
    timeout: float | None = None,
    every: float = 0.5,
    on_progress: Callable[[T], None] | None = None,
) -> T:
    """``fetch()`` until ``done``; after ``timeout`` seconds a ``FermiError`` (reason
    ``timeout``) with the sentence ``late`` gives — the work itself goes on."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        item = fetch()
        if on_progress:
            on_progress(item)
        if done(item):
            return item
        if deadline is not None and time.monotonic() > deadline:
            raise FermiError(late(item), reason="timeout")
        time.sleep(every)


def version_settled(v: Version) -> bool:
    """True once ready (or drifted); ``VersionFailed`` when it failed or was cancelled."""
    if v.status in FAILED:
        raise VersionFailed(
            f"{v.label} {v.status}: {v.error or 'no reason given'}", reason=v.status
        )
    return v.done


def version_late(timeout: float | None) -> Callable[[Version], str]:
    return lambda v: (
        f"{v.label} still {v.status} after {timeout:g}s; it goes on in the background, "
        f"check it later with: fermi status {v.label}"
    )


def job_late(timeout: float | None) -> Callable[[Job], str]:
    return lambda j: (
        f"job {j.id} ({j.kind} of {j.version}) still {j.state} after {timeout:g}s; it goes on "
        "in the background (fermi jobs)"
    )
