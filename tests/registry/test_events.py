"""The event stream resumes: sequence numbers, Last-Event-ID replay (from memory, from the
database, or a snapshot when the events are gone), readable datasets only, no proxy buffering.

Events are published from a second EventBus on the same database — what another registry
process does — so every test here also crosses from one bus to another.
"""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from sqlalchemy import delete, select
from sqlalchemy import event as sa_event

from fermi_jupyter.registry import db as dbmod
from fermi_jupyter.registry.events import EventBus
from fermi_jupyter.registry.orm import Event as EventRow

from ..support.sse import SSEClient


@pytest.fixture(scope="module")
def other_process(reg):
    engine = dbmod.make_engine(str(reg.app.engine.url.render_as_string(hide_password=False)))
    yield EventBus(engine)
    engine.dispose()


def publish(bus: EventBus, n: int, *, owner="alice", vis="private", tag="x") -> None:
    bus.append(
        [
            {
                "type": "version",
                "dataset_id": f"ds-events{tag}",
                "ref": f"ds-events{tag}@{i}",
                "status": "ready",
                "i": i,
                "_acl": (owner, None, vis),
            }
            for i in range(n)
        ]
    )


def stream(reg, who="alice", **kw) -> SSEClient:
    c = SSEClient(f"{reg.url}/events", f"tok-{who}", **kw)
    assert c.status == 200
    return c


def test_headers_say_no_buffering_and_no_caching(reg):
    c = stream(reg)
    assert "x-accel-buffering: no" in c.headers
    assert "cache-control: no-store" in c.headers
    assert "content-type: text/event-stream" in c.headers
    c.close()


def test_ids_are_sequence_numbers_and_only_readable_events_arrive(reg, other_process):
    c = stream(reg, "carol")
    time.sleep(0.3)
    publish(other_process, 3, tag="hidden")  # alice's private dataset: not for carol
    publish(other_process, 3, vis="org", tag="shown")
    got = [c.next_event() for _ in range(3)]
    c.close()
    assert [d["i"] for _, _, d in got] == [0, 1, 2]
    assert {d["dataset_id"] for _, _, d in got} == {"ds-eventsshown"}
    ids = [i for _, i, _ in got]
    assert ids == sorted(ids) and all(d["seq"] == i for (_, i, d) in got)


@pytest.mark.parametrize("where", ["memory", "database"])
def test_a_reconnecting_client_gets_every_event_it_missed(reg, other_process, where):
    c = stream(reg)
    time.sleep(0.3)
    publish(other_process, 5, tag=where)
    first = [c.next_event() for _ in range(2)]
    last_seen = first[-1][1]
    c.reset()  # gone after two of five
    publish(other_process, 7, tag=where + "-later")
    if where == "database":  # more than the process keeps in memory came after it left
        publish(other_process, reg.app.bus._ring.maxlen + 10, tag="flood")
        deadline = time.monotonic() + 10
        while reg.app.bus._ring[0].id <= last_seen + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    c = stream(reg, last_event_id=last_seen)
    rest = [c.next_event() for _ in range(3 + 7)]
    c.close()
    ids = [last_seen] + [i for _, i, _ in rest]
    assert ids == list(range(last_seen, last_seen + 11))  # nothing lost, nothing twice
    assert [d["i"] for _, _, d in rest] == [2, 3, 4, *range(7)]


def test_a_client_away_longer_than_the_log_gets_a_snapshot(reg, other_process):
    c = stream(reg)
    time.sleep(0.3)
    publish(other_process, 1, tag="before")
    _, seen, _ = c.next_event()
    c.close()
    publish(other_process, 3, tag="pruned")
    time.sleep(0.5)
    with other_process.engine.begin() as conn:  # what the retention limit does after a while
        conn.execute(delete(EventRow).where(EventRow.id <= seen + 3))
    reg.app.bus._ring.clear()
    publish(other_process, 1, tag="after")
    c = stream(reg, last_event_id=seen)
    kind, sid, data = c.next_event()
    assert kind == "snapshot" and data["reset"] is True and isinstance(data["versions"], list)
    kind, _, data = c.next_event() if sid < reg.app.bus.head else (None, None, None)
    c.close()
    assert kind in ("version", None)


def test_a_bad_last_event_id_is_a_400(reg):
    c = SSEClient(f"{reg.url}/events", "tok-alice", last_event_id="x")  # type: ignore[arg-type]
    assert c.status == 400
    c.close()


def test_events_published_together_are_stored_in_one_transaction(reg):
    """The writer waits ``gather`` seconds after an event for more: a job's burst (its phases,
    progress and result, a few milliseconds apart) costs one commit, not one each, and a
    progress report superseded within the window is not stored at all."""
    engine = dbmod.make_engine(str(reg.app.engine.url.render_as_string(hide_password=False)))
    commits: list[int] = []
    sa_event.listen(engine, "commit", lambda conn: commits.append(1))
    tag = f"ds-gather-{time.time_ns()}"

    def event(i: int, **kw: object) -> dict:
        return {"type": "version", "dataset_id": tag, "ref": f"{tag}@{i}", "job_id": i, **kw}

    async def main() -> None:
        bus = EventBus(engine, gather=1.0)  # wide: a slow machine still fits the burst
        await bus.start(tail=False)
        for i in range(4):  # a progress report, then the result, of four jobs
            bus.publish(event(i, status="processing", progress={"files_done": 1}))
            await asyncio.sleep(0.01)
            bus.publish(event(i, status="ready", job_state="done"))
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.6)  # the window closes: stored without waiting for more
        stored = len(commits)
        await bus.stop()
        assert stored == 1, f"{stored} commits for one burst"

    try:
        asyncio.run(main())
        with engine.connect() as conn:
            rows = conn.execute(
                select(EventRow.data).where(EventRow.dataset_id == tag).order_by(EventRow.id)
            ).all()
        statuses = [orjson.loads(r.data)["status"] for r in rows]
        assert statuses == ["ready"] * 4
    finally:
        engine.dispose()
