"""What a transfer process says, read the same way wherever it runs: its stdout and stderr as a
local child, or its pod's log on Kubernetes (both streams in one).

JSON lines (``python -m fermi_jupyter.transfers.run``'s) become log lines, progress and the
attempt's final event; any other line is logged as it is and kept for the failure message.
Every line is redacted (the transfer's credentials) before anything else sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...transfers.report import Redactor

PROGRESS_KEYS = ("files_done", "bytes_done", "files_total", "bytes_total")


@dataclass
class Outcome:
    ok: bool
    reason: str = ""
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class LineReader:
    """Collects one attempt's lines; :meth:`flush` hands them to ``log`` and ``progress``."""

    number: int
    redact: Redactor
    log: Callable[[str], None]
    progress: Callable[[dict[str, Any]], None]
    final: dict[str, Any] | None = None
    tail: list[str] = field(default_factory=list)  # the last plain lines (stderr), redacted
    _lines: list[str] = field(default_factory=list)
    _progress: dict[str, Any] | None = None

    def feed(self, line: str, *, plain: bool = False, quiet: bool = False) -> None:
        """One line; ``plain``: it cannot be JSON (a child's stderr); ``quiet``: logged
        already (by a registry that followed this attempt before), so only remembered."""
        line = self.redact(line.rstrip("\n"))
        prefix = f"[attempt {self.number}] "
        ev = None
        if not plain and line.startswith("{"):
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
        if not isinstance(ev, dict):
            if line.strip():
                self.tail.append(line)
                del self.tail[:-20]
                if not quiet:
                    self._lines.append(prefix + line)
            return
        kind = ev.get("event")
        if kind == "progress":
            self._progress = ev
        elif kind == "log" and not quiet:
            self._lines.append(prefix + str(ev.get("message", "")))
        elif kind in ("result", "error"):
            self.final = ev
            if kind == "result":
                self._progress = {
                    "files_done": ev.get("files"),
                    "bytes_done": ev.get("bytes"),
                    "files_total": ev.get("files"),
                    "bytes_total": ev.get("bytes"),
                }

    def flush(self) -> None:
        if self._lines:
            self.log("\n".join(self._lines))
            self._lines = []
        if self._progress:
            values = {
                k: self._progress[k] for k in PROGRESS_KEYS if self._progress.get(k) is not None
            }
            self._progress = None
            if values:
                self.progress(values)

    def outcome(self, exit_code: int | None, what: str = "the transfer process") -> Outcome:
        """The attempt's outcome from its final event, else from how it ended."""
        final = self.final or {}
        if final.get("event") == "result" and exit_code == 0:
            return Outcome(True, result={k: v for k, v in final.items() if k != "event"})
        if final.get("event") == "error":
            return Outcome(False, final.get("reason") or "failed", final.get("message") or "failed")
        said = self.redact(" | ".join(self.tail[-3:]))[:500]
        message = f"{what} ended with status {exit_code}"
        return Outcome(False, "killed", message + (f": {said}" if said else ""))
