"""A dataset list reads each dataset's newest ready version and aliases from copies kept on
the dataset's row (summary.py). After every kind of write that changes them, what a list, a
search and the dataset's own page show must equal what its versions and aliases say — on
SQLite and PostgreSQL. On PostgreSQL, two transactions changing one dataset at once must leave
a copy with both changes."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from fermi_jupyter.registry import db as dbmod
from fermi_jupyter.registry.orm import Alias, Dataset, Version

from ..support.trees import make_tree, wait_job, wait_version


def _truth(c, ds_id: str) -> tuple[int | None, dict[str, int]]:
    """Newest ready version and aliases, from the versions and aliases themselves."""
    versions = c.get(f"/datasets/{ds_id}/versions", params={"limit": 100}).json()["items"]
    ready = [v["number"] for v in versions if v["status"] == "ready"]
    aliases = {}
    for v in versions:
        for name in v.get("aliases") or []:
            if name != "latest":  # a version's page names "latest" among its aliases
                aliases[name] = v["number"]
    return (max(ready) if ready else None), aliases


def _shown(c, ds: dict) -> list[tuple[int | None, dict[str, int]]]:
    """What the dataset's page, a list and a search show of it."""
    page = c.get(f"/datasets/{ds['id']}").json()
    listed = c.get("/datasets", params={"scope": "mine"}).json()["items"]
    found = c.get("/datasets", params={"q": ds["name"]}).json()["items"]
    out = [(page["latest"], page["aliases"])]
    for items in (listed, found):
        (d,) = [d for d in items if d["id"] == ds["id"]]
        out.append((d["latest"], d["aliases"]))
    return out


def _check(c, ds: dict, latest: int | None, aliases: dict[str, int]) -> None:
    assert _truth(c, ds["id"]) == (latest, aliases)  # the scenario did what it meant to
    assert _shown(c, ds) == [(latest, aliases)] * 3


def test_lists_show_every_change_of_versions_and_aliases(reg):
    with reg["alice"] as c:
        vol = c.post("/volumes", json={"name": "copies-vol", "capacity": "1Gi"}).json()
        src = reg.storage_root / "volumes" / vol["id"] / "data"
        make_tree(src, 4, 100)
        ds = c.post("/datasets", json={"name": "copies-speech"}).json()
        _check(c, ds, None, {})

        def register(mode: str = "snapshot") -> int:
            body = {"volume_id": vol["id"], "path": "data", "mode": mode}
            r = c.post(f"/datasets/{ds['id']}/versions", json=body)
            assert r.status_code == 202, r.text
            n = r.json()["number"]
            assert wait_version(c, ds["id"], n)["status"] == "ready"
            return n

        assert register() == 1
        _check(c, ds, 1, {})
        assert register("reference") == 2
        _check(c, ds, 2, {})

        assert c.put(f"/datasets/{ds['id']}/aliases/prod", json={"version": 1}).status_code == 200
        _check(c, ds, 2, {"prod": 1})
        assert c.put(f"/datasets/{ds['id']}/aliases/prod", json={"version": 2}).status_code == 200
        assert c.put(f"/datasets/{ds['id']}/aliases/old", json={"version": 1}).status_code == 200
        _check(c, ds, 2, {"prod": 2, "old": 1})
        assert c.delete(f"/datasets/{ds['id']}/aliases/old").status_code == 204
        _check(c, ds, 2, {"prod": 2})

        # the job process changes a status: the referenced files changed, version 2 drifts
        (src / "new-file.txt").write_text("new")
        job = c.post(f"/datasets/{ds['id']}/versions/2/verify").json()
        assert wait_job(c, job["id"])["result"]["ok"] is False
        _check(c, ds, 1, {"prod": 2})
        (src / "new-file.txt").unlink()
        job = c.post(f"/datasets/{ds['id']}/versions/2/verify").json()
        assert wait_job(c, job["id"])["result"]["ok"] is True
        _check(c, ds, 2, {"prod": 2})

        # deleting the newest version takes its aliases with it
        assert c.delete(f"/datasets/{ds['id']}/versions/2").status_code == 204
        _check(c, ds, 1, {})
        assert c.delete(f"/datasets/{ds['id']}/versions/1").status_code == 204
        _check(c, ds, None, {})


def _waiting_for_a_lock(engine) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar()
        )


@pytest.fixture(scope="module")
def pg_engine(postgres):  # type: ignore[no-untyped-def]
    """A registry database on PostgreSQL (SQLite has one writer at a time: no race there)."""
    engine = dbmod.make_engine(postgres.create_database("fast_list_copies_race"))
    dbmod.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("first", ["version", "alias"])
def test_two_writers_of_one_dataset_both_reach_its_copy(pg_engine, first):
    """One transaction makes version 2 ready while another points an alias at version 1; the
    second to commit must compute the copy with the first's change in it."""
    engine = pg_engine
    sessions = dbmod.make_sessionmaker(engine)
    ds_id = f"ds-copies-{first}"
    now = datetime.now(timezone.utc)
    with sessions() as s:
        s.add(Dataset(id=ds_id, name=ds_id, owner="alice", tags=[], next_version=3))
        s.flush()
        for n, status in ((1, "ready"), (2, "processing")):
            s.add(Version(dataset_id=ds_id, number=n, status=status, created_by="alice"))
        s.commit()

    def make_ready(s) -> None:  # type: ignore[no-untyped-def]
        v = s.scalars(select(Version).where(Version.dataset_id == ds_id, Version.number == 2))
        v.one().status = "ready"
        s.flush()

    def add_alias(s) -> None:  # type: ignore[no-untyped-def]
        s.add(Alias(dataset_id=ds_id, name="prod", number=1, updated_by="alice", updated_at=now))
        s.flush()

    one, two = (make_ready, add_alias) if first == "version" else (add_alias, make_ready)
    holder, waiter = sessions(), sessions()
    one(holder)  # holds the dataset's row until it commits
    errors: list[BaseException] = []

    def second() -> None:
        try:
            two(waiter)
            waiter.commit()
        except BaseException as e:  # reported by the test's thread
            errors.append(e)

    t = threading.Thread(target=second)
    t.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock(engine):
        assert time.monotonic() < deadline, "the second writer never waited for the first"
        time.sleep(0.02)
    holder.commit()
    t.join(10)
    holder.close()
    waiter.close()
    assert not errors, errors
    with sessions() as s:
        row = s.execute(
            select(Dataset.latest_ready, Dataset.alias_map).where(Dataset.id == ds_id)
        ).one()
    assert tuple(row) == (2, {"prod": 1})
