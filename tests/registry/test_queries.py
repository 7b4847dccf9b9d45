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
