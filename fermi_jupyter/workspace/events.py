"""The event relay: one upstream connection to the registry's event stream per server, shared
by every tab, with a buffer of recent events so a reconnecting tab misses nothing.

Ids are the registry's sequence numbers, passed through. A tab that comes back with
``Last-Event-ID`` gets the buffered events after it; when the buffer cannot cover the gap (the
relay itself was not connected, the registry restarted, the id is too old) the tab gets a
``resync`` event first — refetch, then go on. When the relay (re)connects upstream it sends the
last id it saw as ``Last-Event-ID``; a registry that confirms a full replay with the response
header ``X-Fermi-Replay: complete`` spares the tabs a resync, any other answer costs one; an
upstream ``event: snapshot`` (the registry could not replay the gap) is a resync too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..client import FermiError
from .sse import Event, parse

if TYPE_CHECKING:
    from .manager import WorkspaceManager

log = logging.getLogger(__name__)


@dataclass(eq=False)  # hashable by identity: kept in a set
class Subscriber:
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    dataset_id: str | None = None

    def offer(self, event: Event) -> None:
        if self.dataset_id and event.data.get("dataset_id") not in (None, self.dataset_id):
            return
        if self.queue.full():  # a stuck tab loses old progress, and is told to resync
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            event = Event(None, "resync", {"reason": "upstream-reconnected", "last_event_id": None})
        self.queue.put_nowait(event)


def _as_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class EventRelay:
    def __init__(
        self,
        manager: WorkspaceManager,
        *,
        backlog: int = 2000,
        linger: float = 60.0,
        retry: float = 2.0,
    ):
        self.manager = manager
        self.backlog: deque[Event] = deque(maxlen=backlog)
        self.linger = linger
        self.retry = retry
        self.subscribers: set[Subscriber] = set()
        self.last_id: str | None = None
        self._task: asyncio.Task | None = None
        self._connected: asyncio.Event = asyncio.Event()
        self._first_error: FermiError | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._pending_resync: Event | None = None

    # -- subscribers --------------------------------------------------------------------------
    async def subscribe(self, last_event_id: str | None, dataset_id: str | None) -> Subscriber:
        """A new tab. Raises ``FermiError`` when the registry cannot be reached at all."""
        sub = Subscriber(dataset_id=dataset_id)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        started = self._task is None or self._task.done()
        if started:
            self._connected = asyncio.Event()
            self._first_error = None
            self._task = asyncio.ensure_future(self._run(last_event_id))
        waiter = asyncio.ensure_future(self._connected.wait())
        _done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=15, return_when="FIRST_COMPLETED"
        )
        waiter.cancel()
        if self._first_error is not None and not self._connected.is_set():
            raise self._first_error
        self.subscribers.add(sub)
        if self._pending_resync is not None:
            self._broadcast(self._pending_resync)
            self._pending_resync = None
        if last_event_id is not None and not started:
            self._replay(sub, last_event_id)
        return sub

    def _replay(self, sub: Subscriber, last_event_id: str) -> None:
        want = _as_int(last_event_id)
        ids = [_as_int(e.id) for e in self.backlog]
        newest = self.last_id
        if want is not None and newest is not None and want == _as_int(newest):
            return  # nothing happened since
        if (
            want is not None
            and ids
            and ids[0] is not None
            and ids[0] <= want + 1 <= (ids[-1] or 0) + 1
        ):
            for e in self.backlog:
                if (_as_int(e.id) or 0) > want:
                    sub.offer(e)
            return
        reason = (
            "registry-restarted"
            if want is not None and newest is not None and want > (_as_int(newest) or 0)
            else "replay-unavailable"
        )
        sub.offer(Event(None, "resync", {"reason": reason, "last_event_id": last_event_id}))

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        if not self.subscribers and self._task is not None and self._idle is None:
            # keep the upstream (and its buffer) a while: a reloading tab resumes without a gap
            self._idle = asyncio.get_running_loop().call_later(self.linger, self.stop)

    def stop(self) -> None:
        self._idle = None
        if self.subscribers:
            return
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _broadcast(self, event: Event) -> None:
        for sub in list(self.subscribers):
            sub.offer(event)

    # -- upstream -----------------------------------------------------------------------------
    async def _run(self, last_event_id: str | None) -> None:
        resume = last_event_id or self.last_id
        first = True
        while True:
            try:
                async with self.manager.client().stream_events(last_event_id=resume) as r:
                    replayed = r.headers.get("X-Fermi-Replay", "").lower() == "complete"
                    self._connected.set()
                    if resume is not None and not replayed:
                        self._broadcast_or_hold(
                            Event(
                                None,
                                "resync",
                                {
                                    "reason": "replay-unavailable"
                                    if first
                                    else "upstream-reconnected",
                                    "last_event_id": resume,
                                },
                            )
                        )
                    first = False
                    await self._pump(r)
            except asyncio.CancelledError:
                raise
            except FermiError as e:
                if not self._connected.is_set():
                    self._first_error = e
                    return
                log.warning("fermi: event stream from the registry broke: %s", e)
            except Exception as e:
                if not self._connected.is_set():
                    self._first_error = FermiError(
                        str(e), reason="registry-unavailable", status=502
                    )
                    return
                log.warning("fermi: event stream from the registry broke: %r", e)
            resume = self.last_id or resume
            await asyncio.sleep(self.retry)

    def _broadcast_or_hold(self, event: Event) -> None:
        # the first subscriber is added right after the connection is made: hand it over then
        if self.subscribers:
            self._broadcast(event)
        else:
            self._pending_resync = event

    async def _pump(self, r: Any) -> None:
        async for event in parse(r.aiter_lines()):
            pending = self._pending_resync
            if pending is not None and self.subscribers:
                self._pending_resync = None
                self._broadcast(pending)
            if event.type == "snapshot":  # the registry could not replay the gap: tabs refetch
                self.last_id = event.id or self.last_id
                self.backlog.clear()
                data = {"reason": "replay-unavailable", "last_event_id": event.id}
                self._broadcast(Event(None, "resync", data))
                continue
            event = self.manager.event_json(event)
            if event.id is not None:
                self.last_id = event.id
                self.backlog.append(event)
            self._broadcast(event)
