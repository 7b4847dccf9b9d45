"""/api/v1/events: server-sent events for version status and progress changes."""

from __future__ import annotations

import asyncio
import json

from tornado.iostream import StreamClosedError

from ...domain.visibility import can_read
from .. import metrics
from .base import BaseHandler


class _Acl:
    def __init__(self, owner: str, team: str | None, visibility: str):
        self.owner, self.team, self.visibility = owner, team, visibility


class EventsHandler(BaseHandler):
    keepalive = 15.0

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")

    async def get(self) -> None:
        wanted = self.arg("dataset_id")
        sub_id, queue = self.ctx.bus.subscribe()
        self._queue = queue
        metrics.EVENT_SUBSCRIBERS.inc()
        try:
            self.write(": connected\n\n")
            await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), self.keepalive)
                except asyncio.TimeoutError:
                    self.write(": keepalive\n\n")
                    await self.flush()
                    continue
                if event.get("type") == "_closed":
                    break
                acl = event.get("_acl")
                if acl is None or not can_read(self.identity, _Acl(*acl)):
                    continue
                if wanted and event.get("dataset_id") != wanted:
                    continue
                public = {k: v for k, v in event.items() if not k.startswith("_")}
                self.write(
                    f"id: {event['seq']}\nevent: {event['type']}\n"
                    f"data: {json.dumps(public, ensure_ascii=False)}\n\n"
                )
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            self.ctx.bus.unsubscribe(sub_id)
            metrics.EVENT_SUBSCRIBERS.dec()

    def on_connection_close(self) -> None:
        # wake the loop above so it unsubscribes now, not at the next keepalive
        if hasattr(self, "_queue"):
            self._queue.put_nowait({"type": "_closed"})
