"""Progress reports from long storage work, throttled so callers can write them anywhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import Cancelled


@dataclass
class Progress:
    files_done: int
    bytes_done: int
    files_total: int | None
    bytes_total: int | None


ProgressFn = Callable[[Progress], None]


class Tracker:
    """Counts work done, reports at most ``per_second`` times, and raises on cancel."""

    def __init__(
        self,
        progress: ProgressFn | None,
        cancel: threading.Event | None,
        files_total: int | None = None,
        bytes_total: int | None = None,
        per_second: float = 4.0,
    ):
        self.progress = progress
        self.cancel = cancel
        self.files_total = files_total
        self.bytes_total = bytes_total
        self.files = 0
        self.bytes = 0
        self._interval = 1.0 / per_second
        self._last = 0.0

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def add(self, files: int, nbytes: int) -> None:
        self.files += files
        self.bytes += nbytes
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.check()
            self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(Progress(self.files, self.bytes, self.files_total, self.bytes_total))
