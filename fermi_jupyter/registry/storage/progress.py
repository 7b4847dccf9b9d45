"""Progress reports from long storage work, throttled so callers can do real work in them
(the job runner writes its heartbeat to the database from the callback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import Cancelled


@dataclass
class Progress:
    """``files_total`` is None while the walk is still going, ``bytes_total`` until the end
    (the walk reads names only: sizes come from the workers' ``fstat``)."""

    files_done: int
    bytes_done: int
    files_total: int | None
    bytes_total: int | None


ProgressFn = Callable[[Progress], None]
T = TypeVar("T")
INTERVAL = 0.25  # ~4 reports a second


class Tracker:
    """Counts work done, reports at most every ``INTERVAL`` seconds, and raises
    :class:`Cancelled` once ``cancel`` is set (checked at the same pace, and on ``check``).

    Used from the thread that called the storage function; the callback runs there too."""

    def __init__(self, progress: ProgressFn | None, cancel: threading.Event | None):
        self.progress = progress
        self.cancel = cancel
        self.files_total: int | None = None
        self.bytes_total: int | None = None
        self.files = 0
        self.bytes = 0
        self._next = 0.0

    def set_totals(self, files: int, nbytes: int | None) -> None:
        self.files_total, self.bytes_total = files, nbytes
        self.report()

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled")

    def add(self, files: int, nbytes: int) -> None:
        if self.files == 0 and files:
            self._next = 0.0  # the first stored files are reported at once (a job's "copying")
        self.files += files
        self.bytes += nbytes
        self.tick()

    def tick(self) -> None:
        """Report and check for cancel if it is time to (cheap enough to call per file)."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + INTERVAL
            self.check()
            self.report()

    def wait_for(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` — something that may block for seconds (``syncfs`` on a busy
        disk, starting worker processes) — on a helper thread, reporting (and checking for
        cancel) meanwhile, so progress keeps flowing."""
        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["result"] = fn(*args)
            except BaseException as e:  # handed back to the caller
                box["error"] = e

        t = threading.Thread(target=run, name="fermi-storage-wait", daemon=True)
        t.start()
        while True:
            t.join(INTERVAL)
            if not t.is_alive():
                break
            self._next = 0.0  # report now: time has passed
            self.tick()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]

    def report(self) -> None:
        if self.progress is not None:
            self.progress(Progress(self.files, self.bytes, self.files_total, self.bytes_total))
