"""/api/v1/events: server-sent events for version status and progress changes.

Each event's ``id:`` is its sequence number. A client that reconnects with ``Last-Event-ID``
(browsers do it by themselves; or ``?last_event_id=``) receives every event it missed, or — when
it was away longer than the registry keeps events — one ``snapshot`` event first.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session
from tornado.iostream import StreamClosedError

from ...domain.states import IN_FLIGHT
from ...domain.visibility import can_read
from .. import metrics
from ..errors import BadRequest, Reason
from ..events import Frame
from ..managers.access import readable_datasets
from ..orm import Dataset, Version
from ..serialize import progress_json
from .base import BaseHandler

MAX_WRITE = 64 * 1024  # bytes handed to one client before waiting for it to take them


class _Acl:
    def __init__(self, owner: str, team: str | None, visibility: str):
        self.owner, self.team, self.visibility = owner, team, visibility


class EventsHandler(BaseHandler):
    keepalive = 15.0
    write_timeout = 60.0  # a client that takes nothing for this long is dropped (it resumes)

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # no buffering in nginx-style proxies

    def _last_event_id(self) -> int | None:
        raw = self.request.headers.get("Last-Event-ID") or self.get_argument("last_event_id", "")
        if not raw.strip():
            return None
        if not raw.strip().isdigit() or len(raw.strip()) > 18:
            raise BadRequest("Last-Event-ID must be an event id", reason=Reason.invalid_query)
        return int(raw)

    async def get(self) -> None:
        wanted = self.arg("dataset_id")
        bus = self.ctx.bus
        last = self._last_event_id()
        if last is None:
            last = bus.head
        self._closed = asyncio.get_running_loop().create_future()
        bus.subscribers += 1
        metrics.EVENT_SUBSCRIBERS.inc()
        try:
            self.write(": connected\nretry: 3000\n\n")
            await self._flush()
            while not self._closed.done():
                frames = bus.since(last)
                if frames is None:  # older than this process keeps in memory
                    frames, complete = await self.call(lambda db, after=last: bus.replay(after))
                    if not complete:
                        last = bus.head
                        await self._send([await self._snapshot(last)])
                        continue
                if not frames:
                    await self._wait(bus.changed())
                    continue
                last = frames[-1].id
                await self._send(
                    [f.data for f in frames if self._visible(f, wanted)],
                )
        except (StreamClosedError, asyncio.TimeoutError):
            pass
        finally:
            bus.subscribers -= 1
            metrics.EVENT_SUBSCRIBERS.dec()
            if not self._finished:
                with contextlib.suppress(Exception):
                    self.request.connection.close()

    def _visible(self, f: Frame, wanted: str | None) -> bool:
        if f.acl is None or not can_read(self.identity, _Acl(*f.acl)):
            return False
        return not wanted or f.dataset_id == wanted

    async def _send(self, chunks: list[bytes]) -> None:
        size, part = 0, []
        for c in chunks:
            part.append(c)
            size += len(c)
            if size >= MAX_WRITE:
                self.write(b"".join(part))
                await self._flush()
                size, part = 0, []
        if part:
            self.write(b"".join(part))
            await self._flush()

    async def _flush(self) -> None:
        # a client that stopped reading holds only its own handler, and not for ever
        await asyncio.wait_for(self.flush(), self.write_timeout)

    async def _wait(self, changed: asyncio.Future) -> None:
        done, _ = await asyncio.wait(
            {changed, self._closed}, timeout=self.keepalive, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            self.write(": keepalive\n\n")
            await self._flush()

    async def _snapshot(self, head: int) -> bytes:
        """What the client must know when events it missed are gone: the versions still in
        flight that it may see; it should reload anything else it shows."""
        who = self.identity

        def in_flight(db: Session) -> list[dict]:
            stmt = (
                select(Version.__table__, Dataset.name.label("dataset_name"))
                .join(Dataset, Dataset.id == Version.dataset_id)
                .where(Version.status.in_(IN_FLIGHT), readable_datasets(who))
                .order_by(Version.id)
                .limit(500)
            )
            return [
                {
                    "ref": f"{r.dataset_id}@{r.number}",
                    "dataset_id": r.dataset_id,
                    "dataset_name": r.dataset_name,
                    "number": r.number,
                    "status": r.status,
                    "progress": progress_json(r),
                }
                for r in db.execute(stmt)
            ]

        data = orjson.dumps({"seq": head, "reset": True, "versions": await self.call(in_flight)})
        return b"id: %d\nevent: snapshot\ndata: %s\n\n" % (head, data)

    def on_connection_close(self) -> None:
        # wake the loop above so it ends now, not at the next keepalive
        closed = getattr(self, "_closed", None)
        if closed is not None and not closed.done():
            closed.set_result(None)
