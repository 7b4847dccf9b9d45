"""Rate, ETA and "stalled since" for work in flight, from the progress samples this server sees.

The registry reports files and bytes done of total. Whoever watches it (the event relay, each
GET of a version or job) feeds the samples here, and every progress the extension hands out is
enriched with the rate over the last ``window`` seconds, the time left at that rate, when it
last moved, and — once it has not moved for ``stall_after`` seconds — since when it is stalled.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

MAX_KEYS = 2000


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


class _Track:
    def __init__(self) -> None:
        self.samples: deque[tuple[float, int, int]] = deque(maxlen=64)
        self.moved_at = 0.0


class ProgressTracker:
    def __init__(
        self,
        *,
        stall_after: float = 60.0,
        window: float = 30.0,
        clock: Callable[[], float] = time.time,
    ):
        self.stall_after = stall_after
        self.window = window
        self.clock = clock
        self._tracks: OrderedDict[str, _Track] = OrderedDict()

    def enrich(self, key: str, progress: dict[str, Any] | None, *, active: bool) -> dict[str, Any]:
        """``progress`` with rate, eta_seconds, updated_at and stalled_since added (values the
        registry already sent win). Finished work (``active=False``) is forgotten."""
        p = dict(progress or {})
        for name in ("files_done", "files_total", "bytes_done", "bytes_total"):
            p.setdefault(name, None)
        extra: dict[str, Any] = {
            "rate_bytes_per_s": None,
            "rate_files_per_s": None,
            "eta_seconds": None,
            "updated_at": None,
            "stalled_since": None,
        }
        if not active:
            self._tracks.pop(key, None)
            return {**extra, **p}
        now = self.clock()
        track = self._tracks.pop(key, None) or _Track()
        self._tracks[key] = track  # most recently used last
        while len(self._tracks) > MAX_KEYS:
            self._tracks.popitem(last=False)
        nbytes, nfiles = p["bytes_done"] or 0, p["files_done"] or 0
        last = track.samples[-1] if track.samples else None
        if last is None or (nbytes, nfiles) != (last[1], last[2]):
            track.moved_at = now
            track.samples.append((now, nbytes, nfiles))
        elif not track.moved_at:
            track.moved_at = now
        while len(track.samples) > 2 and now - track.samples[0][0] > self.window:
            track.samples.popleft()
        first, newest = track.samples[0], track.samples[-1]
        span = now - first[0]
        if len(track.samples) >= 2 and span > 0:
            extra["rate_bytes_per_s"] = max(0.0, (newest[1] - first[1]) / span)
            extra["rate_files_per_s"] = max(0.0, (newest[2] - first[2]) / span)
            rate_b, rate_f = extra["rate_bytes_per_s"], extra["rate_files_per_s"]
            if p["bytes_total"] and rate_b:
                extra["eta_seconds"] = max(0.0, (p["bytes_total"] - nbytes) / rate_b)
            elif p["files_total"] and rate_f:
                extra["eta_seconds"] = max(0.0, (p["files_total"] - nfiles) / rate_f)
        extra["updated_at"] = iso(track.moved_at)
        if now - track.moved_at >= self.stall_after:
            extra["stalled_since"] = iso(track.moved_at)
            extra["eta_seconds"] = None
        return {**extra, **{k: v for k, v in p.items() if v is not None or k not in extra}}
