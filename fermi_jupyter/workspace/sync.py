"""``Workspace``: the workspace manager's sync face, for the ``fermi`` CLI and ``%fermi``.

One manager (and so one registry client) runs on a private event-loop thread, so it works the
same in a terminal and inside a kernel whose own loop is busy running the cell. Results come
back as the client's typed models; waiting (with a progress callback) happens in the caller's
thread, where notebook progress widgets belong.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..client import FermiError, Job, Version, VersionFailed
from ..domain.states import JOB_FINISHED, JobState, VersionStatus
from .manager import WorkspaceManager
from .progress import ProgressTracker

T = TypeVar("T")


class Workspace:
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        root_dir: str | None = None,
        stall_after: float = 60.0,
    ):
        def registry() -> tuple[str, str]:
            return (
                url or os.environ.get("FERMI_REGISTRY_URL", ""),
                token or os.environ.get("JUPYTERHUB_API_TOKEN", ""),
            )

        self.manager = WorkspaceManager(
            registry, root_dir=root_dir, tracker=ProgressTracker(stall_after=stall_after)
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fermi")
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self.manager.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Every manager verb, called synchronously: ``ws.datasets(q="x")``."""
        verb = getattr(self.manager, name)
        if not asyncio.iscoroutinefunction(verb):
            return verb

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.run(verb(*args, **kwargs))

        call.__name__ = name
        call.__doc__ = verb.__doc__
        return call

    # -- waiting ------------------------------------------------------------------------------
    def wait(
        self,
        ref: str,
        selector: str | int,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Version], None] | None = None,
    ) -> Version:
        """Until the version is ready; ``VersionFailed`` if it fails or is cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            v = Version.from_json(self.run(self.manager.version(ref, str(selector))))
            if on_progress:
                on_progress(v)
            if v.status in (VersionStatus.failed.value, VersionStatus.cancelled.value):
                raise VersionFailed(
                    f"{v.label} {v.status}: {v.error or 'no reason given'}", reason=v.status
                )
            if v.done:
                return v
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(
                    f"{v.label} still {v.status} after {timeout:g}s; it goes on in the "
                    f"background, check it later with: fermi status {v.label}",
                    reason="timeout",
                )
            time.sleep(poll)

    def wait_job(
        self,
        job: Job,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if on_progress:
                on_progress(job)
            if JobState(job.state) in JOB_FINISHED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(
                    f"job {job.id} ({job.kind} of {job.version}) still {job.state} after "
                    f"{timeout:g}s; it goes on in the background (fermi jobs)",
                    reason="timeout",
                )
            time.sleep(poll)
            job = Job.from_json(self.run(self.manager.job(str(job.id))))
