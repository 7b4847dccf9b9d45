"""No N+1: the SQL statements each read endpoint runs do not grow with the page size.

Counted with a SQLAlchemy event hook on the in-process registry's engine, only on the threads
that run requests' database work (``fermi-db-*``), so background readers do not count.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select

from fermi_jupyter.registry import summary
from fermi_jupyter.registry.orm import (
    Alias,
    AuditEvent,
    Dataset,
    Job,
    Mount,
    Version,
    Volume,
)

from ..support.trees import make_tree, wait_version

N = 30  # datasets, versions per dataset, jobs: more than the small page, fewer than the big

# statements per request, whatever the page size
BUDGET = {
    "/datasets": 1,  # page: latest ready version and aliases read from the rows (summary.py)
    "/datasets?q=bench": 1,
    "/datasets/{ds}": 1,
    # by id: the page (mounted, aliases, latest as subqueries) joined to its dataset's row
    "/datasets/{ds}/versions": 1,
    "/datasets/{ds}/versions/3": 1,  # the version with the same subqueries, the same way
    "/datasets/{ds}/versions/latest": 1,
    "/datasets/{ds}/versions/a2": 1,
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
        summary.refresh_all(conn)  # what the registry keeps on each dataset's row
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
def counting(app):
    """Statements on the request engine and, on PostgreSQL, the reads' own engine."""
    seen: list[str] = []
    engines = [e for e in (app.engine, app.ctx.pool.read_engine) if e is not None]

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("fermi-db"):
            seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("path", list(BUDGET))
def test_statements_per_request_do_not_grow_with_the_page(reg, world, path):
    url = path.format(ds=world)
    sep = "&" if "?" in url else "?"
    counts = {}
    with reg["alice"] as c:
        for limit in (2, 25):
            with counting(reg.app) as seen:
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
        ("alice", "private", "50% off_sale in C:\\Temp"),
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
        # and so are "/" (the escape character our LIKE declares) and backslash (LIKE's default)
        for term in ("C:%5CTemp", "%5C", "%5Ct", ":%5C", "%5C%25"):
            assert names("alice", f"q={term}") == ({"reuse-alice"} if term != "%5C%25" else set())
        assert names("alice", "q=%2F") == names("bob", "q=%5C") == set()
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


def test_search_ignores_case_follows_renames_and_stays_within_one_field(reg, world):
    """PostgreSQL searches a stored lower-cased ``search_text`` (migration 0006), SQLite its
    FTS table: the same answers either way, kept current by the database on every change."""

    def found(c, q: str) -> set[str]:  # type: ignore[no-untyped-def]
        r = c.get("/datasets", params={"q": q, "limit": 50})
        assert r.status_code == 200, r.text
        return {d["name"] for d in r.json()["items"] if d["name"].startswith("case-")}

    with reg["alice"] as c:
        r = c.post("/datasets", json={"name": "case-Speech", "description": "Ünïcode 语音 Notes"})
        assert r.status_code == 201, r.text
        ds = r.json()["id"]
        for q in ("speech", "SPEECH", "sPeEcH", "ünïcode", "语音", "notes", "se-sp"):
            assert found(c, q) == {"case-Speech"}, q
        # name and description are two fields: a term spanning them matches neither
        assert found(c, "speech\nünïcode") == found(c, "speech ünïcode") == set()
        assert c.patch(f"/datasets/{ds}", json={"name": "case-Audio"}).status_code == 200
        assert found(c, "speech") == set() and found(c, "AUDIO") == {"case-Audio"}
        assert c.patch(f"/datasets/{ds}", json={"description": "plain"}).status_code == 200
        assert found(c, "notes") == set() and found(c, "plain") == {"case-Audio"}
    if reg.app.engine.dialect.name == "postgresql":  # the column is the database's to keep
        with reg.app.engine.connect() as conn:
            kept = conn.exec_driver_sql(
                "SELECT search_text FROM datasets WHERE id = %(id)s", {"id": ds}
            ).scalar()
        assert kept == "case-audio\nplain"


def test_version_reads_by_id_in_one_statement_answer_as_by_name(reg, world):
    """By id, a version read is one statement joining the dataset's row; by name it looks the
    dataset up first. Both must give the same answers, the errors included."""
    with reg["alice"] as c:
        r = c.post("/datasets", json={"name": "one-empty", "visibility": "team", "team": "vision"})
        assert r.status_code == 201, r.text
        empty = r.json()["id"]
    cases = [
        (world, "bench-000", ["", "?limit=2", "?status=ready&limit=3", "/3", "/latest", "/a2"]),
        (world, "bench-000", ["/999", "/99999999999999999999", "/nope"]),
        (empty, "one-empty", ["", "/latest", "/1", "/a1"]),
    ]
    for reader in ("alice", "bob", "carol"):  # owner, team member, outsider
        with reg[reader] as c:
            for ds, name, tails in cases:
                for tail in tails:
                    by_id = c.get(f"/datasets/{ds}/versions{tail}")
                    by_name = c.get(f"/datasets/alice%2F{name}/versions{tail}")
                    assert by_id.status_code == by_name.status_code, (reader, ds, tail)
                    if by_id.status_code == 200:
                        assert by_id.json() == by_name.json(), (reader, ds, tail)
                    else:
                        assert by_id.json()["reason"] == by_name.json()["reason"]
                    if ds == empty and reader == "carol":  # not visible: as if it did not exist
                        assert by_id.status_code == 404
                        assert by_id.json()["reason"] == "dataset-not-found"
                        assert c.get(f"/datasets/ds-nosuch000/versions{tail}").json() == {
                            **by_id.json(),
                            "message": by_id.json()["message"].replace(empty, "ds-nosuch000"),
                        }
    with reg["alice"] as c:
        assert c.get(f"/datasets/{empty}/versions").json() == {"items": [], "next_cursor": None}
        assert c.get(f"/datasets/{empty}/versions/latest").json()["reason"] == "no-ready"
        page = c.get(f"/datasets/{world}/versions?limit=2").json()
        assert [v["number"] for v in page["items"]] == [N, N - 1] and page["next_cursor"]
        rest = c.get(f"/datasets/{world}/versions?limit=50&cursor={page['next_cursor']}").json()
        assert [v["number"] for v in rest["items"]] == list(range(N - 2, 0, -1))


def test_answered_reads_are_logged_at_debug_level_only(reg, world):
    """At a thousand reads a second, an INFO line each drowned the writes and errors and cost
    4 % of a serving process; writes and refusals are still logged at the app's level."""
    import logging

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.lines: list[tuple[int, str]] = []

        def emit(self, record: logging.LogRecord) -> None:
            if "/datasets" in record.getMessage():
                self.lines.append((record.levelno, record.getMessage()))

    app, before = reg.app, reg.app.log_level
    try:
        for level, reads_logged in ((logging.INFO, False), (logging.DEBUG, True)):
            app.log_level, keep = level, Keep()
            app.log.addHandler(keep)
            try:
                with reg["alice"] as c:
                    assert c.get(f"/datasets/{world}").status_code == 200
                    assert c.get("/datasets/ds-nosuch000").status_code == 404
                    r = c.patch(f"/datasets/{world}", json={"description": "logged"})
                    assert r.status_code == 200
                # tornado logs a request after sending its answer: wait for the last line (the
                # lines of the requests before it were written first, on the same loop)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not any(
                    "200 PATCH" in m for _lv, m in keep.lines
                ):
                    time.sleep(0.01)
            finally:
                app.log.removeHandler(keep)
            lines = keep.lines
            assert any(lv == logging.WARNING and "404 GET" in m for lv, m in lines), lines
            assert any(lv == logging.INFO and "200 PATCH" in m for lv, m in lines), lines
            assert any("200 GET" in m for _lv, m in lines) == reads_logged, lines
    finally:
        app.log_level = before


def test_a_registration_job_reads_its_rows_once_when_it_starts_and_once_when_it_ends(reg):
    """The job, its version, dataset and source volume come in one statement at the claim and
    one at the end (then the session answers the gets); besides them a job reads only the
    previous version's number and, on PostgreSQL, locks its dataset's row for the list copies.
    """
    with reg["alice"] as c:
        vol = c.post("/volumes", json={"name": "queries-job-vol", "capacity": "1Gi"}).json()
        make_tree(reg.storage_root / "volumes" / vol["id"] / "data", 5, 100)
        ds = c.post("/datasets", json={"name": "queries-job"}).json()["id"]
        body = {"volume_id": vol["id"], "path": "data"}
        seen: list[str] = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if threading.current_thread().name.startswith("fermi-job"):
                seen.append(" ".join(statement.split()))

        event.listen(reg.app.job_engine, "before_cursor_execute", count)
        try:
            for _ in range(2):  # the first has no previous version; the second one has
                r = c.post(f"/datasets/{ds}/versions", json=body)
                assert r.status_code == 202, r.text
                assert wait_version(c, ds, r.json()["number"])["status"] == "ready"
        finally:
            event.remove(reg.app.job_engine, "before_cursor_execute", count)
    selects = [s for s in seen if s.upper().startswith("SELECT")]
    loads = [s for s in selects if s.startswith("SELECT jobs.")]
    locks = [s for s in selects if s.endswith("FOR UPDATE")]
    others = [s for s in selects if s not in loads and s not in locks]
    assert len(loads) == 4, loads  # two a job: the claim and the end
    assert all(" JOIN versions " in s and " JOIN datasets " in s for s in loads), loads
    assert len(locks) == (2 if reg.backend == "postgresql" else 0), locks
    assert len(others) == 2 and all("max(versions.number)" in s for s in others), others


def test_a_registration_request_writes_its_version_job_and_audit_row_in_seven_statements(reg):
    """The POST that registers runs in a serving process, beside the readers: read the
    dataset, the volume and the previous version's size, take a number, insert the version,
    its job and its audit row — each once. The job and audit rows go in without the unit of
    work (reused statements): each caller's values, never the previous caller's."""
    made = {}
    flushes: list[int] = []  # objects written by each flush on a request thread

    def flushed(session, context):  # type: ignore[no-untyped-def]
        if threading.current_thread().name.startswith("fermi-db"):
            flushes.append(len(context.states))

    for who in ("alice", "bob", "alice"):
        with reg[who] as c:
            if who not in made:  # each user's own volume and dataset, made once
                vol = c.post("/volumes", json={"name": f"queries-post-{who}", "capacity": "1Gi"})
                make_tree(reg.storage_root / "volumes" / vol.json()["id"] / "data", 3, 100)
                ds = c.post("/datasets", json={"name": f"queries-post-{who}"}).json()["id"]
                made[who] = (vol.json()["id"], ds)
            vol_id, ds = made[who]
            flushes.clear()
            event.listen(reg.app.sessions, "after_flush", flushed)
            try:
                with counting(reg.app) as seen:
                    body = {"volume_id": vol_id, "path": "data"}
                    r = c.post(f"/datasets/{ds}/versions", json=body)
            finally:
                event.remove(reg.app.sessions, "after_flush", flushed)
            assert r.status_code == 202, r.text
            assert len(seen) == 7, seen
            assert flushes == [1], flushes  # the unit of work runs once, for the version
            number = r.json()["number"]
            assert wait_version(c, ds, number)["status"] == "ready"
        with reg.app.sessions() as db:
            v = db.scalars(select(Version).filter_by(dataset_id=ds, number=number)).one()
            job = db.scalars(select(Job).filter_by(version_id=v.id)).one()
            assert (job.kind, job.created_by, job.params, job.state) == (
                "register",
                who,
                {"mode": "snapshot"},
                "done",
            )
            row = db.scalars(
                select(AuditEvent).where(AuditEvent.target == v.ref).order_by(AuditEvent.id)
            ).one()
            assert (row.actor, row.action, row.detail) == (
                who,
                "version.create",
                {"volume": vol_id, "path": "data", "mode": "snapshot"},
            )
            assert row.at is not None and job.created_at is not None
