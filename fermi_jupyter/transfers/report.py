"""What a transfer process tells its parent: JSON lines on stdout (progress, log, result, error),
each one with every secret value redacted."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterable
from typing import IO, Any

REDACTED = "[redacted]"


class Redactor:
    """Replaces secret values (and their URL-encoded forms) in any text."""

    def __init__(self, secrets: Iterable[str]):
        from urllib.parse import quote

        values = {s for s in secrets if s and len(s) >= 4}
        values |= {quote(s, safe="") for s in values}
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


class Reporter:
    def __init__(self, redact: Redactor, out: IO[str] | None = None, interval: float = 0.5):
        self.redact = redact
        self.out = out or sys.stdout
        self.interval = interval
        self._lock = threading.Lock()
        self._last = 0.0
        self.files_done = self.bytes_done = 0
        self.files_total: int | None = None
        self.bytes_total: int | None = None

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}, ensure_ascii=False, default=str)
        line = self.redact(line)
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def log(self, message: str) -> None:
        self.emit("log", message=message)

    def totals(self, files: int | None, size: int | None) -> None:
        self.files_total, self.bytes_total = files, size
        self.progress(force=True)

    def add(self, files: int = 0, size: int = 0) -> None:
        with self._lock:
            self.files_done += files
            self.bytes_done += size
        self.progress()

    def set(self, files: int, size: int) -> None:
        self.files_done, self.bytes_done = files, size
        self.progress()

    def progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        self.emit(
            "progress",
            files_done=self.files_done,
            bytes_done=self.bytes_done,
            files_total=self.files_total,
            bytes_total=self.bytes_total,
        )
