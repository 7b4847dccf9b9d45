"""Diff and lineage on the registry: what changed between two versions (from the stored
manifests), which versions a version was made from and which were made from it — and that
neither shows anything of a dataset the caller may not read.

alice owns "lin-a" (org, then private), bob owns "lin-b" (org, made from lin-a@1), alice owns
"lin-c" (private, made from lin-a@1); carol is in no shared team; root is an admin.
"""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest

from ..support.trees import make_tree, wait_version

READ_A_LATER = {"alice", "root"}  # lin-a ends private


def _register(c, ds_id: str, vol_id: str, path: str, **extra) -> dict:
    r = c.post(f"/datasets/{ds_id}/versions", json={"volume_id": vol_id, "path": path, **extra})
    assert r.status_code == 202, r.text
    v = wait_version(c, ds_id, r.json()["number"])
    assert v["status"] == "ready", v
    return v


@pytest.fixture(scope="module")
def lin(hub, users):
    """lin-a@1 → @2 (one file added, one removed, one changed, the rest unchanged) → @3 (the
    same files as @2); lin-b@1 (bob) and lin-c@1 (alice, private) made from lin-a@1."""
    root = hub.storage_root / "volumes"
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "lin-vol", "capacity": "1Gi"}).json()
        src = root / vol["id"] / "data"
        make_tree(src, 6, 100, seed=81, dirs=2)  # part-000/sample-0,2,4; part-001/sample-1,3,5
        a = c.post("/datasets", json={"name": "lin-a", "visibility": "org"}).json()
        _register(c, a["id"], vol["id"], "data")
        (src / "part-000" / "sample-000000.bin").unlink()  # removed: 100 bytes
        (src / "part-001" / "new.bin").write_bytes(b"n" * 250)  # added: 250 bytes
        (src / "part-001" / "sample-000001.bin").write_bytes(b"c" * 40)  # changed: 100 → 40
        _register(c, a["id"], vol["id"], "data", message="edited")
        _register(c, a["id"], vol["id"], "data", message="unchanged")
        c.put(f"/datasets/{a['id']}/aliases/prod", json={"version": 2}).raise_for_status()
        make_tree(root / vol["id"] / "other" / "z", 3, 70, seed=83, dirs=1)
        cds = c.post("/datasets", json={"name": "lin-c", "visibility": "private"}).json()
        _register(c, cds["id"], vol["id"], "other", parents=[f"{a['id']}@1"])
    with users["bob"] as c:
        bvol = c.post("/volumes", json={"name": "lin-bob", "capacity": "1Gi"}).json()
        shutil.copytree(src, root / bvol["id"] / "copy")
        b = c.post("/datasets", json={"name": "lin-b", "visibility": "org"}).json()
        _register(c, b["id"], bvol["id"], "copy", parents=[f"{a['id']}@1"])
    # lin-a turns private once bob's version names it: bob keeps his lineage, not the view
    users["alice"].patch(f"/datasets/{a['id']}", json={"visibility": "private"}).raise_for_status()
    return {"a": a, "b": b, "c": cds}


def test_diff_lists_added_removed_changed_with_sizes(lin, users):
    a = lin["a"]["id"]
    with users["alice"] as c:
        d = c.get(f"/datasets/{a}/versions/2/diff", params={"against": "1"}).json()
    assert (d["base"], d["target"]) == (f"{a}@1", f"{a}@2")
    assert d["added"] == [{"path": "part-001/new.bin", "size": 250}]
    assert d["removed"] == [{"path": "part-000/sample-000000.bin", "size": 100}]
    assert d["changed"] == [
        {"path": "part-001/sample-000001.bin", "size_before": 100, "size_after": 40}
    ]
    assert d["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 4}
    assert d["bytes"] == {"added": 250, "removed": 100, "changed_before": 100, "changed_after": 40}
    assert d["truncated"] is False


def test_diff_against_selectors_aliases_and_other_datasets(lin, users):
    a = lin["a"]["id"]
    with users["alice"] as c:
        same = c.get(f"/datasets/{a}/versions/3/diff", params={"against": "prod"}).json()
        assert same["base"] == f"{a}@2" and same["counts"]["unchanged"] == 6
        assert same["added"] == same["removed"] == same["changed"] == []
        back = c.get(f"/datasets/{a}/versions/1/diff", params={"against": "latest"}).json()
        assert back["base"] == f"{a}@3"
        assert back["added"] == [{"path": "part-000/sample-000000.bin", "size": 100}]
        # against a version of another dataset: NAME@N, OWNER/NAME@N, ds-…@N
        for against in ("lin-b@1", "bob/lin-b@1", f"{lin['b']['id']}@1"):
            other = c.get(f"/datasets/{a}/versions/2/diff", params={"against": against}).json()
            assert other["base"] == f"{lin['b']['id']}@1"
            assert other["counts"] == {"added": 0, "removed": 0, "changed": 0, "unchanged": 6}


def test_diff_limit_truncates_the_lists_never_the_counts(lin, users):
    a = lin["a"]["id"]
    with users["alice"] as c:
        full = c.get(f"/datasets/{a}/versions/2/diff", params={"against": "lin-c@1"}).json()
        cut = c.get(
            f"/datasets/{a}/versions/2/diff", params={"against": "lin-c@1", "limit": "2"}
        ).json()
    assert full["counts"] == cut["counts"] == {
        "added": 6, "removed": 3, "changed": 0, "unchanged": 0
    }  # fmt: skip
    assert full["bytes"] == cut["bytes"] and full["truncated"] is False
    assert cut["truncated"] is True
    assert cut["added"] == full["added"][:2] and cut["removed"] == full["removed"][:2]


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({}, 400, "invalid-ref"),
        ({"against": ""}, 400, "invalid-ref"),
        ({"against": "   "}, 400, "invalid-ref"),
        ({"against": "a b"}, 400, "invalid-ref"),
        ({"against": "@"}, 400, "invalid-ref"),
        ({"against": "x/y/z@1"}, 404, "dataset-not-found"),
        ({"against": "999"}, 404, "no-version"),
        ({"against": "nope"}, 404, "no-version"),
        ({"against": "no-such-dataset@1"}, 404, None),
        ({"against": "1", "limit": "0"}, 400, None),
        ({"against": "1", "limit": "abc"}, 400, None),
        ({"against": "1", "limit": "10001"}, 400, None),
        ({"against": "1", "limit": "99999999999999999999"}, 400, None),
    ],
)
def test_diff_refuses_bad_selectors_with_a_4xx(lin, users, params, status, reason):
    with users["alice"] as c:
        r = c.get(f"/datasets/{lin['a']['id']}/versions/2/diff", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["message"] and (reason is None or body["reason"] == reason)


def test_bad_version_selectors_in_the_path_are_refused(lin, users):
    a = lin["a"]["id"]
    with users["alice"] as c:
        for sel in ("999", "no-alias"):
            for what in ("diff?against=1", "lineage"):
                r = c.get(f"/datasets/{a}/versions/{sel}/{what}")
                assert r.status_code == 404 and r.json()["reason"] == "no-version", r.text
        r = c.get(f"/datasets/{a}/versions/{quote('a b')}/lineage")
        assert r.status_code == 404  # no route: the registry's selectors are [A-Za-z0-9_.-]


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "root", "anon"])
def test_who_can_diff_and_see_lineage(lin, users, who):
    """lin-a is private (alice, root); lin-b is org (every user)."""
    a, b = lin["a"]["id"], lin["b"]["id"]
    want_a = 401 if who == "anon" else (200 if who in READ_A_LATER else 404)
    want_b = 401 if who == "anon" else 200
    with users[who if who != "anon" else "nobody"] as c:
        for path, want in (
            (f"/datasets/{a}/versions/2/diff?against=1", want_a),
            (f"/datasets/{a}/versions/1/lineage", want_a),
            (f"/datasets/{b}/versions/1/lineage", want_b),
            (f"/datasets/{b}/versions/1/diff?against=1", want_b),
            # a readable target cannot reach an unreadable base through `against`
            (f"/datasets/{b}/versions/1/diff?against=alice/lin-a@1", want_a),
            (f"/datasets/{b}/versions/1/diff?against={a}@2", want_a),
        ):
            r = c.get(path)
            assert r.status_code == want, (who, path, r.text)
            if want == 404:
                assert "lin-a" not in r.text or a not in r.text  # nothing of it leaks


def test_lineage_shows_parents_and_readable_children(lin, users):
    a, b, cds = lin["a"]["id"], lin["b"]["id"], lin["c"]["id"]
    with users["alice"] as c:
        mine = c.get(f"/datasets/{a}/versions/1/lineage").json()
    assert mine["version"]["label"] == "lin-a@1" and mine["parents"] == []
    assert [n["ref"] for n in mine["children"]] == sorted([f"{b}@1", f"{cds}@1"])
    assert all(n["visible"] and n["status"] == "ready" for n in mine["children"])
    with users["root"] as c:
        seen = c.get(f"/datasets/{a}/versions/1/lineage").json()
    assert len(seen["children"]) == 2
    with users["alice"] as c:
        assert c.get(f"/datasets/{a}/versions/2/lineage").json()["children"] == []


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_a_parent_the_caller_cannot_read_shows_only_its_ref(lin, users, who):
    a, b = lin["a"]["id"], lin["b"]["id"]
    with users[who] as c:
        line = c.get(f"/datasets/{b}/versions/1/lineage").json()
    assert line["version"] == {
        "ref": f"{b}@1",
        "label": "lin-b@1",
        "dataset_id": b,
        "dataset_name": "lin-b",
        "owner": "bob",
        "number": 1,
        "status": "ready",
        "visible": True,
    }
    assert line["parents"] == [
        {
            "ref": f"{a}@1",
            "label": f"{a}@1",
            "dataset_id": a,
            "dataset_name": None,
            "owner": None,
            "number": 1,
            "status": None,
            "visible": False,
        }
    ]
    with users["alice"] as c:  # its owner sees the name
        parent = c.get(f"/datasets/{b}/versions/1/lineage").json()["parents"][0]
    assert parent["label"] == "lin-a@1" and parent["visible"] is True
