"""No N+1: the SQL statements each read endpoint runs do not grow with the page size.

Counted with a SQLAlchemy event hook on the in-process registry's engine, only on the threads
that run requests' database work (``fermi-db-*``), so background readers do not count.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select

from fermi_jupyter.registry.orm import (
    Alias,
    AuditEvent,
    Dataset,
    Job,
    Mount,
    Version,
    Volume,
)

N = 30  # datasets, versions per dataset, jobs: more than the small page, fewer than the big

# statements per request, whatever the page size
BUDGET = {
    "/datasets": 1,  # page: latest ready version and aliases as correlated subqueries
    "/datasets?q=bench": 1,
    "/datasets/{ds}": 1,
    "/datasets/{ds}/versions": 2,  # resolve + page (mounted, aliases, latest as subqueries)
    "/datasets/{ds}/versions/3": 2,  # resolve + the version with the same subqueries
    "/datasets/{ds}/versions/latest": 2,
    "/datasets/{ds}/versions/a2": 2,
    "/volumes": 1,
    "/jobs": 1,  # jobs joined with their versions
    "/mounts": 1,
    "/audit": 1,
}


@pytest.fixture(scope="module")
def world(reg):
    """N datasets of N versions (every third mounted, three aliases each), a job per version
    and N audit events, written in a few bulk statements."""
    ds_rows, v_rows, alias_rows = [], [], []
    for i in range(N):
        ds_id = f"ds-queries{i:03d}"
        ds_rows.append(
            {
                "id": ds_id,
                "name": f"bench-{i:03d}",
                "owner": "alice",
                "visibility": "org",
                "tags": ["t"],
                "next_version": N + 1,
                "description": "",
            }
        )
        v_rows += [
            {
                "dataset_id": ds_id,
                "number": n,
                "status": "ready",
                "mode": "snapshot",
                "source_volume_id": "vol-queries01",
                "created_by": "alice",
                "warnings": [],
                "parents": [],
                "files_done": 0,
                "bytes_done": 0,
                "source_path": "",
                "message": "",
            }
            for n in range(1, N + 1)
        ]
        alias_rows += [
            {"dataset_id": ds_id, "name": f"a{k}", "number": k, "updated_by": "alice"}
            for k in (1, 2, 3)
        ]
    with reg.app.engine.begin() as conn:
        conn.execute(
            insert(Volume),
            [{"id": "vol-queries01", "name": "q", "owner": "alice", "capacity_bytes": 1}],
        )
        conn.execute(insert(Dataset), ds_rows)
        conn.execute(insert(Version), v_rows)
        conn.execute(insert(Alias), alias_rows)
        ids = list(conn.execute(select(Version.id).order_by(Version.id)).scalars())
        conn.execute(
            insert(Job),
            [
                {
                    "kind": "verify",
                    "version_id": v,
                    "created_by": "alice",
                    "params": {},
                    "state": "done",
                    "attempts": 1,
                    "files_done": 0,
                    "bytes_done": 0,
                }
                for v in ids
            ],
        )
        conn.execute(
            insert(Mount),
            [
                {"server": f"alice/s{v}", "owner": "alice", "version_id": v, "mount_path": ""}
                for v in ids[::3]
            ],
        )
        conn.execute(
            insert(AuditEvent),
            [
                {
                    "actor": "alice",
                    "action": "dataset.update",
                    "target": f"ds-queries{i:03d}",
                    "detail": {},
                }
                for i in range(N)
            ],
        )
    return "ds-queries000"


FULL_PAGES = {"/datasets", "/datasets?q=bench", "/datasets/{ds}/versions", "/jobs", "/audit"}


@contextmanager
def counting(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("fermi-db"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("path", list(BUDGET))
def test_statements_per_request_do_not_grow_with_the_page(reg, world, path):
    url = path.format(ds=world)
    sep = "&" if "?" in url else "?"
    counts = {}
    with reg["alice"] as c:
        for limit in (2, 25):
            with counting(reg.app.engine) as seen:
                r = c.get(f"{url}{sep}limit={limit}" if "versions/" not in url else url)
                assert r.status_code == 200, r.text
            counts[limit] = len(seen)
            if path in FULL_PAGES:  # the big page really is big
                assert len(r.json()["items"]) == limit
    assert counts[2] == counts[25] == BUDGET[path], (path, counts)


def test_reused_statements_carry_nothing_from_one_caller_to_the_next(reg, world):
    """Read statements are built once per shape and reused (``managers/statements.py``): the
    callers' names, teams and search terms must come from each request, never the first one."""
    made = {}
    for who, vis, desc in [
        ("alice", "private", "50% off_sale"),
        ("bob", "private", "plain"),
        ("carol", "team", "audio only"),
    ]:
        with reg[who] as c:
            r = c.post(
                "/datasets",
                json={"name": f"reuse-{who}", "visibility": vis, "description": desc}
                | ({"team": "audio"} if vis == "team" else {}),
            )
            assert r.status_code == 201, r.text
            made[who] = r.json()["id"]

    def names(who: str, query: str) -> set[str]:
        with reg[who] as c:
            r = c.get(f"/datasets?{query}&limit=50")
            assert r.status_code == 200, r.text
            return {d["name"] for d in r.json()["items"] if d["name"].startswith("reuse-")}

    for _ in range(2):  # alternating callers of the same shapes
        for who in ("alice", "bob", "dave", "carol"):
            own = {f"reuse-{who}"} if who in made else set()
            assert names(who, "scope=mine") == own, who
            team = {"reuse-carol"} if who == "carol" else set()
            assert names(who, "q=reuse-") == own | team, who
            assert names(who, "q=re") == own | team, who  # (short terms: the LIKE path)
        # LIKE's wildcards are plain characters in a search
        assert names("alice", "q=%25") == names("alice", "q=_") == {"reuse-alice"}
        assert names("bob", "q=%25") == set()
    for who, ds in made.items():  # one dataset by id, alternating: only its readers see it
        for reader in ("alice", "bob", "carol", "dave"):
            with reg[reader] as c:
                r = c.get(f"/datasets/{ds}/versions")
            visible = reader == who or (who == "carol" and reader == "carol")
            assert r.status_code == (200 if visible else 404), (who, reader, r.text)


def test_varying_requests_do_not_grow_the_statement_cache(reg, world):
    """The page size is a bound value, not a shape: a client cycling through limits (or any
    other values) reuses the same statements, and the cache has a ceiling besides."""
    from fermi_jupyter.registry.managers import statements

    with reg["alice"] as c:
        for path in ("/datasets", f"/datasets/{world}/versions", "/datasets?q=bench"):
            assert c.get(f"{path}{'&' if '?' in path else '?'}limit=1").status_code == 200
        before = len(statements._BUILT)
        for limit in range(2, 80):
            for path in ("/datasets", f"/datasets/{world}/versions", "/datasets?q=bench"):
                r = c.get(f"{path}{'&' if '?' in path else '?'}limit={limit}")
                assert r.status_code == 200, r.text
                n = len(r.json()["items"])  # (at least N of each are visible to alice)
                assert n == limit if limit <= N else n >= N, (path, limit, n)
    assert len(statements._BUILT) == before
    assert statements.MAX_SHAPES <= 1024


def test_a_listed_page_shows_each_dataset_as_a_written_one_is_shown(reg, world):
    """A page's rows become JSON by position (Core rows); a dataset just written is shown from
    its ORM object with two batched queries. Both must give the same object."""
    from sqlalchemy.orm import Session

    from fermi_jupyter.registry.managers import datasets as mgr

    with reg["alice"] as c:
        page = c.get("/datasets", params={"limit": 50, "scope": "org"}).json()["items"]
    assert len(page) == N
    with Session(reg.app.engine) as db:
        for item in page[:5]:
            assert item == mgr.to_json(db, [db.get(Dataset, item["id"])])[0]
            assert item["aliases"] == {"a1": 1, "a2": 2, "a3": 3} and item["tags"] == ["t"]
            assert item["latest"] == N and item["created_at"].endswith("Z")


def test_json_columns_give_back_integers_beyond_64_bits_exactly(reg):
    """JSON columns are parsed by orjson on PostgreSQL, which would turn such an integer into
    a float; the value must come back as it was stored."""
    big = 2**70 + 1
    detail = {"n": big, "small": 7, "name": "x"}
    with reg.app.engine.begin() as conn:
        conn.execute(
            insert(AuditEvent),
            [{"actor": "alice", "action": "t", "target": "big-int", "detail": detail}],
        )
    with reg.app.engine.connect() as conn:
        got = conn.execute(select(AuditEvent.detail).where(AuditEvent.target == "big-int"))
        assert got.scalar_one() == detail
