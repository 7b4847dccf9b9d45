"""Cancelling a registration: the dataset's owner, an admin, or whoever started it may — and a
finished version is never touched by a cancel.

A registration that surely runs long enough to be caught: a reference-mode registration of many
sparse files (``make_slow_tree``). Each test cancels what it started, so at most seconds of
hashing are spent.
"""

from __future__ import annotations

import shutil

import pytest

from ..support.trees import make_slow_tree, make_tree, wait_version


@pytest.fixture(scope="module")
def slow(hub, users):
    """alice's team dataset "cancel-ds" (bob, in her team, can read it) with a ready version,
    and a folder that takes minutes to register."""
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "cancel-vol", "capacity": "1Gi"}).json()
        root = hub.storage_root / "volumes" / vol["id"]
        make_tree(root / "small", 3, 100, seed=91)
        folder = make_slow_tree(root / "slow")
        ds = c.post("/datasets", json={"name": "cancel-ds", "visibility": "team", "team": "vision"})
        ds = ds.json()
        r = c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "small"})
        assert wait_version(c, ds["id"], r.json()["number"])["status"] == "ready"
    yield {"ds": ds, "vol": vol}
    shutil.rmtree(folder, ignore_errors=True)


def start(users, who: str, slow: dict) -> int:
    """A registration by ``who`` that is still running when this returns."""
    body = {"volume_id": slow["vol"]["id"], "path": "slow", "mode": "reference"}
    with users[who] as c:
        r = c.post(f"/datasets/{slow['ds']['id']}/versions", json=body)
    assert r.status_code == 202, r.text
    return r.json()["number"]


def cancel(users, who: str, slow: dict, number: int):
    with users[who if who != "anon" else "nobody"] as c:
        return c.post(f"/datasets/{slow['ds']['id']}/versions/{number}/cancel")


def assert_cancelled(users, slow: dict, number: int, r) -> None:
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "register" and job["version"] == f"{slow['ds']['id']}@{number}"
    assert job["state"] in ("cancelling", "cancelled")
    v = wait_version(users["alice"], slow["ds"]["id"], number, timeout=60)
    assert v["status"] == "cancelled"


@pytest.mark.parametrize(("starter", "canceller"), [("root", "alice"), ("alice", "root")])
def test_the_owner_and_an_admin_cancel_each_others_registrations(users, slow, starter, canceller):
    number = start(users, starter, slow)
    assert_cancelled(users, slow, number, cancel(users, canceller, slow, number))
    with users["root"] as c:  # the audit says who stopped it
        audit = c.get("/audit", params={"action": "version.cancel", "limit": 200}).json()
    mine = [e for e in audit["items"] if e["target"] == f"{slow['ds']['id']}@{number}"]
    assert [e["actor"] for e in mine] == [canceller]


@pytest.mark.parametrize(
    ("who", "status", "reason"),
    [("bob", 403, "not-cancellable"), ("carol", 404, None), ("anon", 401, None)],
)
def test_others_cannot_cancel(users, slow, who, status, reason):
    """bob reads the dataset (same team) but may not change it; carol cannot even see it."""
    number = start(users, "alice", slow)
    try:
        r = cancel(users, who, slow, number)
        assert r.status_code == status, r.text
        assert reason is None or r.json()["reason"] == reason
        if reason == "not-cancellable":
            assert "alice" in r.json()["message"]
        with users["alice"] as c:
            v = c.get(f"/datasets/{slow['ds']['id']}/versions/{number}").json()
        assert v["status"] in ("pending", "processing")  # still going
    finally:
        assert_cancelled(users, slow, number, cancel(users, "alice", slow, number))


def test_a_running_version_has_no_diff_and_cannot_be_deleted_by_its_cancel(users, slow):
    number = start(users, "alice", slow)
    ds = slow["ds"]["id"]
    with users["alice"] as c:
        r = c.get(f"/datasets/{ds}/versions/{number}/diff", params={"against": "1"})
        assert r.status_code == 409 and r.json()["reason"] == "not-ready", r.text
        r = c.get(f"/datasets/{ds}/versions/1/diff", params={"against": str(number)})
        assert r.status_code == 409 and r.json()["reason"] == "not-ready", r.text
    assert_cancelled(users, slow, number, cancel(users, "alice", slow, number))


@pytest.mark.parametrize("who", ["alice", "root"])
def test_a_finished_version_is_not_cancellable_and_stays(users, slow, who):
    ds = slow["ds"]["id"]
    for number in ("1", "latest"):
        r = cancel(users, who, slow, number)
        assert r.status_code == 409 and r.json()["reason"] == "not-running", r.text
    with users["alice"] as c:
        assert c.get(f"/datasets/{ds}/versions/1").json()["status"] == "ready"
        cancelled = c.get(f"/datasets/{ds}/versions", params={"status": "cancelled"}).json()
    for v in cancelled["items"]:  # cancelling again is a 409 too, and changes nothing
        r = cancel(users, who, slow, v["number"])
        assert r.status_code == 409 and r.json()["reason"] == "not-running"


@pytest.mark.parametrize("key", ["2147483648", "476204183103", "99999999999999999999", "²"])
def test_an_id_no_column_can_hold_is_simply_not_found(users, slow, key):
    """Integer columns are 32-bit in PostgreSQL: a larger id or version number, or a digit that
    is not ASCII, finds nothing (404) rather than failing the query (500)."""
    with users["alice"] as c:
        for method in ("GET", "DELETE"):
            r = c.request(method, f"/jobs/{key}")
            assert r.status_code == 404 and r.json()["reason"] == "job-not-found", (
                r.status_code,
                r.text,
                r.url,
            )
        if key.isascii():  # a non-ASCII selector matches no version route: a separate question
            r = c.get(f"/datasets/{slow['ds']['id']}/versions/{key}")
            assert r.status_code == 404 and r.json()["reason"] == "no-version", (
                r.status_code,
                r.text,
            )
