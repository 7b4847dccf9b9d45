"""``Workspace``: the workspace manager's sync face, for the ``fermi`` CLI and ``%fermi``.

One manager (and so one registry client) runs on a private event-loop thread, so it works the
same in a terminal and inside a kernel whose own loop is busy running the cell. Waiting (with a
progress callback) happens in the caller's thread, where notebook progress widgets belong.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from ..client import Job, Version, waiting
from .manager import WorkspaceManager
from .progress import ProgressTracker
from .sse import Event

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

    def events(self, **kwargs: Any) -> Iterator[Event]:
        """The manager's event stream, one event at a time (blocks while waiting)."""
        stream = self.manager.events(**kwargs)
        try:
            while True:
                try:
                    yield self.run(stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self.run(stream.aclose())

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
        return waiting.poll(
            lambda: Version.from_json(self.run(self.manager.version(ref, str(selector)))),
            waiting.version_settled,
            waiting.version_late(timeout),
            timeout=timeout,
            every=poll,
            on_progress=on_progress,
        )

    def wait_job(
        self,
        job: Job,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """Until the job is done, failed or cancelled (``job`` is its first state)."""
        first = [job]

        def fetch() -> Job:
            return first.pop() if first else Job.from_json(self.run(self.manager.job(str(job.id))))

        return waiting.poll(
            fetch,
            lambda j: j.done,
            waiting.job_late(timeout),
            timeout=timeout,
            every=poll,
            on_progress=on_progress,
        )
