"""Status changes for the event stream, shared by every registry process through the database.

``publish`` (thread-safe, never blocks: job threads call it) queues an event; one writer thread
appends queued events to the ``events`` table in batches. One tailer per process reads new rows
(woken at once by its own writer, every ``poll_interval`` for other processes' rows) into a ring
of ready-to-send frames and wakes the stream handlers. A handler keeps its own position (the
last id it sent), so a slow client never holds anyone up and never loses an event: what has
left the ring is read back from the table, and what has left the table is replaced by a
snapshot. Row ids are the stream's sequence numbers: ``Last-Event-ID`` resumes exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, delete, func, insert, select, text

from .orm import Event as EventRow
from .orm import utcnow

log = logging.getLogger(__name__)
Event = dict[str, Any]
Publisher = Callable[[Event], None]

# one lock id for "appending to the event log" on PostgreSQL: ids then commit in order, so a
# tailer that has seen id N has seen every id below it
_PG_APPEND_LOCK = 0x6665726D69  # "fermi"


@dataclass(frozen=True)
class Frame:
    id: int
    dataset_id: str | None
    acl: tuple[str, str | None, str] | None  # owner, team, visibility
    data: bytes  # the whole SSE frame: id, event and data lines


class EventBus:
    def __init__(
        self,
        engine: Engine,
        *,
        poll_interval: float = 0.25,
        ring_size: int = 2048,
        retention: int = 50_000,
        batch: int = 500,
        gather: float = 0.0,
    ):
        self.engine = engine
        self.poll_interval = poll_interval
        self.gather = gather
        self.retention = retention
        self.batch = batch
        self.head = 0  # the newest id this process has read
        self._ring: deque[Frame] = deque(maxlen=ring_size)
        self._outbox: queue.Queue[Event | None] = queue.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Future[None] | None = None
        self._poke: asyncio.Event | None = None
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fermi-events")
        self._writer: threading.Thread | None = None
        self._tailer: asyncio.Task | None = None
        self._pg = engine.dialect.name == "postgresql"
        self.subscribers = 0
        self._stopping = False

    # -- publishing (any thread) ------------------------------------------------------------
    def publish(self, event: Event) -> None:
        """Queue ``event`` for every subscriber of every process. Keys starting with ``_`` are
        internal: ``_acl`` = (owner, team, visibility) decides who may see it."""
        self._outbox.put(event)

    def _write_loop(self) -> None:
        while True:
            first = self._outbox.get()
            if first is None:
                return
            events = [first]
            stop = False
            # wait ``gather`` seconds for more: while jobs run, each publishes several events
            # in a few milliseconds, and one transaction then stores them all
            until = time.monotonic() + self.gather
            while len(events) < self.batch:
                try:
                    nxt = self._outbox.get(timeout=max(0.0, until - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                events.append(nxt)
            self.append(_coalesce(events))
            if stop:
                return

    def append(self, events: list[Event]) -> None:
        """Store ``events`` now (blocking): the writer thread's work, also usable by tools."""
        rows = [_row(e) for e in events]
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    if self._pg:
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_APPEND_LOCK}
                        )
                    conn.execute(insert(EventRow), rows)
                break
            except Exception as e:  # the database is down: keep the events a while, then say so
                log.warning("could not store %d event(s) (attempt %d): %s", len(rows), attempt, e)
                threading.Event().wait(0.5 * 2**attempt)
        else:
            log.error("dropped %d event(s): the database did not take them", len(rows))
        if self._loop is not None and self._poke is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._poke.set)

    # -- tailing (the event loop) -----------------------------------------------------------
    async def start(self, tail: bool = True) -> None:
        """Start the writer and, unless ``tail`` is false (a process that only publishes: the
        job process), the tailer that feeds this process's stream handlers."""
        self._loop = asyncio.get_running_loop()
        self._poke = asyncio.Event()
        self._changed = self._loop.create_future()
        self.head = await self._loop.run_in_executor(self._reader, self._max_id)
        self._writer = threading.Thread(target=self._write_loop, name="fermi-events-writer")
        self._writer.daemon = True
        self._writer.start()
        if tail:
            self._tailer = asyncio.create_task(self._tail())

    async def stop(self) -> None:
        self._stopping = True
        self._outbox.put(None)
        if self._poke is not None:
            self._poke.set()
        if self._tailer is not None:
            self._tailer.cancel()  # (3.11's wait_for can swallow a cancel: the flag ends it too)
            await asyncio.wait({self._tailer}, timeout=5)
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join, 5)
        self._reader.shutdown(wait=False)

    async def _tail(self) -> None:
        assert self._poke is not None and self._loop is not None
        pruned_at = self._loop.time()
        while not self._stopping:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.poll_interval)
            self._poke.clear()
            try:
                frames = await self._loop.run_in_executor(self._reader, self._fetch, self.head)
                if self._loop.time() - pruned_at > 60:
                    pruned_at = self._loop.time()
                    await self._loop.run_in_executor(self._reader, self._prune)
            except Exception as e:
                log.warning("could not read the event log: %s", e)
                await asyncio.sleep(1)
                continue
            if frames:
                self._ring.extend(frames)
                self.head = frames[-1].id
                self._wake()
                if len(frames) == self.batch:
                    self._poke.set()  # more waiting: read on without sleeping

    def _wake(self) -> None:
        assert self._loop is not None
        changed, self._changed = self._changed, self._loop.create_future()
        if changed is not None and not changed.done():
            changed.set_result(None)

    def _max_id(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(EventRow.id))).scalar() or 0

    def _fetch(self, after: int, limit: int | None = None) -> list[Frame]:
        stmt = (
            select(EventRow.__table__)
            .where(EventRow.id > after)
            .order_by(EventRow.id)
            .limit(limit or self.batch)
        )
        with self.engine.connect() as conn:
            return [_frame(r) for r in conn.execute(stmt)]

    def _prune(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(EventRow).where(EventRow.id <= self.head - self.retention))

    # -- reading (stream handlers) ----------------------------------------------------------
    def since(self, last: int) -> list[Frame] | None:
        """Frames after ``last`` from memory, or None when the ring no longer reaches back."""
        if last >= self.head:
            return []
        if not self._ring or self._ring[0].id > last + 1:
            return None
        return [f for f in self._ring if f.id > last]

    def replay(self, last: int, limit: int = 1000) -> tuple[list[Frame], bool]:
        """Frames after ``last`` from the table (blocking; run off the loop). The flag is False
        when some of them were already pruned: the caller sends a snapshot instead."""
        with self.engine.connect() as conn:
            oldest = conn.execute(select(func.min(EventRow.id))).scalar()
        if oldest is not None and oldest > last + 1:
            return [], False
        return self._fetch(last, limit), True

    def changed(self) -> asyncio.Future[None]:
        """Resolves when new frames arrive (shared by all handlers; never cancel it)."""
        assert self._changed is not None, "EventBus.start() was not awaited"
        return self._changed


def _coalesce(events: list[Event]) -> list[Event]:
    """Drop a progress report when a later one for the same version is in the same batch."""
    keep, seen = [], set()
    for e in reversed(events):
        key = (e.get("ref"), e.get("job_id"))
        is_progress = e.get("status") == "processing" and "job_state" not in e
        if is_progress and key in seen:
            continue
        seen.add(key)
        keep.append(e)
    return keep[::-1]


def _row(event: Event) -> dict[str, Any]:
    acl = event.get("_acl")
    public = {k: v for k, v in event.items() if not k.startswith("_") and k != "seq"}
    return {
        "at": utcnow(),
        "type": str(event.get("type") or "message")[:32],
        "dataset_id": event.get("dataset_id"),
        "owner": acl[0] if acl else None,
        "team": acl[1] if acl else None,
        "visibility": acl[2] if acl else None,
        "data": orjson.dumps(public, default=str).decode(),
    }


def _frame(row: Any) -> Frame:
    data = row.data
    # the sequence number is also in the data, for clients that do not read SSE ids
    data = f'{{"seq":{row.id},{data[1:]}' if data.startswith("{") and data != "{}" else data
    acl = (row.owner, row.team, row.visibility) if row.owner is not None else None
    raw = f"id: {row.id}\nevent: {row.type}\ndata: {data}\n\n".encode()
    return Frame(row.id, row.dataset_id, acl, raw)
