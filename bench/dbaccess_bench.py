"""How the registry reaches its database from the event loop: ``python -m bench dbaccess``.

The same dataset page (visibility filter, newest ready version, aliases, JSON) served to 50
concurrent callers on one event loop, three ways, alternating, medians of 3, on PostgreSQL:

- sync on the loop (what the registry did before: every round trip stalls every request);
- the registry's SessionPool (the sync managers on a bounded thread pool);
- SQLAlchemy's AsyncSession with psycopg's async mode (managers would need async twins).

Reported: pages a second and CPU per page, as ratios to the thread pool.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fermi_jupyter.domain.identity import Identity  # noqa: E402
from fermi_jupyter.registry import db as dbmod  # noqa: E402
from fermi_jupyter.registry import summary  # noqa: E402
from fermi_jupyter.registry.managers import datasets as mgr  # noqa: E402
from fermi_jupyter.registry.managers.access import readable_datasets  # noqa: E402
from fermi_jupyter.registry.orm import Alias, Dataset, Version  # noqa: E402
from fermi_jupyter.registry.sessionpool import SessionPool  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

WHO = Identity("alice", frozenset({"vision"}))
PAGES, CONCURRENCY = 300, 50


def populate(url: str) -> None:
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    rng = random.Random(1)
    rows, versions, aliases = [], [], []
    for i in range(2000):
        ds = f"ds-access{i:06d}"
        rows.append(
            {
                "id": ds,
                "name": f"set-{i:05d}",
                "owner": ["alice", "bob"][i % 2],
                "team": "vision",
                "visibility": rng.choice(["private", "team", "org"]),
                "data_type": "image",
                "description": "",
                "tags": [],
                "next_version": 3,
            }
        )
        versions += [
            {
                "dataset_id": ds,
                "number": n,
                "status": "ready",
                "mode": "snapshot",
                "source_path": "",
                "message": "",
                "created_by": "alice",
                "files_done": 0,
                "bytes_done": 0,
                "warnings": [],
                "parents": [],
            }
            for n in (1, 2)
        ]
        aliases.append({"dataset_id": ds, "name": "prod", "number": 1, "updated_by": "alice"})
    with engine.begin() as conn:
        conn.execute(insert(Dataset), rows)
        conn.execute(insert(Version), versions)
        conn.execute(insert(Alias), aliases)
        summary.refresh_all(conn)  # what the registry keeps on each dataset's row
    dbmod.analyze(engine)
    engine.dispose()


def page_sync(db) -> list[dict]:  # type: ignore[no-untyped-def]
    rows, _ = mgr.list_(db, WHO, limit=50, cursor=None)
    return mgr.to_json(db, rows)


async def drive(one) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(pages per second, CPU ms per page) for PAGES pages, CONCURRENCY at a time."""
    sem = asyncio.Semaphore(CONCURRENCY)

    async def task() -> None:
        async with sem:
            await one()

    c0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(PAGES)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return PAGES / wall, 1000 * cpu / PAGES


async def measure(url: str, rounds: int = 3) -> dict[str, tuple[float, float]]:
    engine = dbmod.make_engine(url, pool_size=10)
    sessions = dbmod.make_sessionmaker(engine)
    # as the registry builds it: reads on PostgreSQL on an autocommit engine of their own
    read_engine = None if url.startswith("sqlite") else dbmod.make_engine(url, autocommit=True)
    pool = SessionPool(sessions, 8, read_engine)
    aengine = create_async_engine(url, pool_size=8, max_overflow=0, pool_timeout=300)
    asessions = async_sessionmaker(aengine, expire_on_commit=False)
    stmt_base = mgr._PAGE_SELECT  # the same statement the registry runs

    async def on_loop() -> None:
        pool.work(page_sync, read_only=True)  # on the event loop's own thread

    async def threads() -> None:
        await pool.run(page_sync, read_only=True)

    async def native_async() -> None:
        async with asessions() as db:
            conn = await db.connection()
            stmt = (
                stmt_base.where(readable_datasets(WHO)).order_by(Dataset.name, Dataset.id).limit(51)
            )
            rows = list(await conn.execute(stmt))
            mgr.to_json(None, rows[:50])  # type: ignore[arg-type]

    ways = {
        "sync on the event loop": on_loop,
        "thread pool (SessionPool)": threads,
        "AsyncSession (psycopg async)": native_async,
    }
    for one in ways.values():
        await drive(one)  # warm up
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
    for _ in range(rounds):
        for name, one in ways.items():
            got[name].append(await drive(one))
    pool.shutdown()
    engine.dispose()
    await aengine.dispose()
    return {
        k: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v))
        for k, v in got.items()
    }


def run() -> list[str]:
    pg = PostgresServer().start()
    try:
        url = pg.create_database("fermi_dbaccess")
        populate(url)
        res = asyncio.run(measure(url))
    finally:
        pg.stop()
    ref_rate, ref_cpu = res["thread pool (SessionPool)"]
    out = [
        "| way (PostgreSQL, 50 concurrent pages) | pages / s | CPU per page | vs thread pool |",
        "|---|---:|---:|---:|",
    ]
    for name, (rate, cpu) in res.items():
        out.append(
            f"| {name} | {rate:,.0f} | {cpu:.2f} ms | {rate / ref_rate:.2f}x rate, "
            f"{cpu / ref_cpu:.2f}x CPU |"
        )
    return out


if __name__ == "__main__":
    print("\n".join(run()))
