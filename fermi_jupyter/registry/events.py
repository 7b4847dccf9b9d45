"""In-process publish/subscribe for status changes, feeding the server-sent event stream.

Job threads publish; subscribers are SSE handlers on the tornado loop. Each event carries the
dataset's access fields so a subscriber can filter without a database query.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


class EventBus:
    def __init__(self, backlog: int = 256):
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._backlog = backlog
        self._seq = itertools.count(1)

    def subscribe(self) -> tuple[int, asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=self._backlog)
        sub_id = next(self._ids)
        with self._lock:
            self._subscribers[sub_id] = (asyncio.get_running_loop(), queue)
        return sub_id, queue

    def unsubscribe(self, sub_id: int) -> None:
        with self._lock:
            self._subscribers.pop(sub_id, None)

    def publish(self, event: Event) -> None:
        """Thread-safe: may be called from job workers."""
        event = {**event, "seq": next(self._seq)}
        with self._lock:
            targets = list(self._subscribers.values())
        for loop, queue in targets:
            if loop.is_closed():
                continue
            loop.call_soon_threadsafe(_offer, queue, event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    # a slow client loses intermediate progress, never a final status: drop the oldest
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)


Publisher = Callable[[Event], None]
