"""Dataset list / search latency with 100,000 datasets, on SQLite and PostgreSQL.

Measures the registry's own query path (visibility filter, search, keyset page, latest
version and aliases, JSON shaping) — what ``GET /api/v1/datasets`` runs after authentication.
The reference in the same run is a primary-key lookup of the same number of rows.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from fermi_jupyter.domain.identity import Identity
from fermi_jupyter.registry import db as dbmod
from fermi_jupyter.registry import summary
from fermi_jupyter.registry.managers import datasets as mgr
from fermi_jupyter.registry.orm import Dataset, DatasetTag, Version

WORDS = [
    "imagenet",
    "coco",
    "speech",
    "中文",
    "语音",
    "medical",
    "ct",
    "lidar",
    "augmented",
    "clean",
    "raw",
    "text",
    "wiki",
    "video",
    "kinetics",
    "audio",
    "mixed",
    "cifar",
]
TAGS = ["扩增", "清洗", "原始", "生产"]
TARGET_MS = 50.0


def populate(url: str, n: int, seed: int = 1) -> None:
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    rng = random.Random(seed)
    rows, tags, versions = [], [], []
    for i in range(n):
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:06d}"
        vis = rng.choices(["private", "team", "org", "public"], [5, 2, 2, 1])[0]
        ds_id = f"ds-bench{i:07d}"
        rows.append(
            {
                "id": ds_id,
                "name": name,
                "owner": f"user{rng.randrange(1000)}",
                "team": f"team{rng.randrange(50)}",
                "visibility": vis,
                "data_type": "mixed",
                "description": f"{name} for benchmarks",
                "tags": [],
                "next_version": 2,
            }
        )
        if i % 3 == 0:
            tags.append({"dataset_id": ds_id, "tag": rng.choice(TAGS)})
        versions.append(
            {
                "dataset_id": ds_id,
                "number": 1,
                "status": "ready",
                "mode": "snapshot",
                "source_path": "",
                "message": "",
                "created_by": "x",
                "files_done": 0,
                "bytes_done": 0,
                "warnings": [],
                "parents": [],
            }
        )
    with engine.begin() as conn:
        for chunk in range(0, n, 5000):
            conn.execute(insert(Dataset), rows[chunk : chunk + 5000])
            conn.execute(insert(Version), versions[chunk : chunk + 5000])
        if tags:
            conn.execute(insert(DatasetTag), tags)
        summary.refresh_all(conn)  # what the registry keeps on each dataset's row
    dbmod.analyze(engine)  # what the registry does at start-up
    engine.dispose()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def measure(url: str, rounds: int = 200, seed: int = 2) -> dict[str, float]:
    engine = dbmod.make_engine(url)
    sessions = dbmod.make_sessionmaker(engine)
    rng = random.Random(seed)
    who = Identity("user7", frozenset({"team3", "team9"}))

    def page(**kw) -> None:  # type: ignore[no-untyped-def]
        with sessions() as db:
            rows, _ = mgr.list_(db, who, limit=50, **kw)
            mgr.to_json(db, rows)  # as the registry answers a page

    def reference() -> None:
        with sessions() as db:
            ids = [f"ds-bench{rng.randrange(100000):07d}" for _ in range(50)]
            list(db.scalars(select(Dataset).where(Dataset.id.in_(ids))))

    cases = {
        "list first page": lambda: page(),
        "search a word": lambda: page(q=rng.choice(WORDS)),
        "search a rare name": lambda: page(q=f"{rng.randrange(100000):06d}"),
        "search 2 chars (语音)": lambda: page(q="语音"),
        "filter by tag": lambda: page(tag=rng.choice(TAGS)),
        "only mine": lambda: page(scope="mine"),
        "reference: 50 rows by id": reference,
    }
    out = {}
    for label, fn in cases.items():
        for _ in range(10):
            fn()  # warm up
        samples = []
        for _ in range(rounds):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        out[label] = p95(samples)
    engine.dispose()
    return out


def run(n: int = 100_000) -> list[tuple[str, str, float, float]]:
    """Returns (backend, case, p95 ms, ratio to the reference) rows."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.postgres import PostgresServer

    results = []
    tmp = Path(tempfile.mkdtemp(prefix="fermi-bench-db-"))
    pg = PostgresServer().start()
    try:
        urls = {
            "sqlite": f"sqlite:///{tmp / 'bench.sqlite'}",
            "postgresql": pg.create_database("fermi_bench"),
        }
        for backend, url in urls.items():
            populate(url, n)
            figures = measure(url)
            ref = figures["reference: 50 rows by id"]
            for case, ms in figures.items():
                results.append((backend, case, ms, ms / ref))
    finally:
        pg.stop()
    return results


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", type=int, default=100_000)
    args = ap.parse_args()
    print(
        f"dataset list/search, {args.datasets:,} datasets, "
        f"p95 of 200 queries (target < {TARGET_MS} ms)"
    )
    for backend, case, ms, ratio in run(args.datasets):
        ok = "ok" if ms < TARGET_MS or case.startswith("reference") else "MISSED"
        print(f"  {backend:<10} {case:<26} p95 {ms:7.2f} ms  {ratio:5.1f}x reference  {ok}")


if __name__ == "__main__":
    main()
