"""Who may read, list, search, register, change and delete — tried by every kind of caller.

alice owns everything here; bob shares team "vision" with her; carol is in another team; root
is a hub admin; anon sends no token. Expected codes: a caller who may not even see a thing gets
404 (its existence is not leaked); one who may see but not change it gets 403.

Fast tier: the registry in-process with an injected hub auth (``reg``), on SQLite and
PostgreSQL; ``tests/registry/test_hub_e2e.py`` keeps the promises that need a real hub.
"""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import quote

import httpx
import pytest

from ..support.trees import make_tree, wait_version

VIS = ["private", "team", "org", "public"]
CALLERS = ["alice", "bob", "carol", "root", "anon"]

# who may read a dataset of each visibility
READ = {
    "private": {"alice", "root"},
    "team": {"alice", "bob", "root"},
    "org": {"alice", "bob", "carol", "root"},
    "public": {"alice", "bob", "carol", "root"},
}
WRITE = {"alice", "root"}


@pytest.fixture(scope="module")
def world(reg):
    """alice's volume with data, and one ready dataset per visibility."""
    with reg["alice"] as c:
        vol = c.post("/volumes", json={"name": "authz-vol", "capacity": "1Gi"}).json()
        src = reg.storage_root / "volumes" / vol["id"] / "data"
        make_tree(src, 3, 100)
        team_vol = c.post(
            "/volumes", json={"name": "authz-team-vol", "capacity": "1Gi", "team": "vision"}
        ).json()
        make_tree(reg.storage_root / "volumes" / team_vol["id"] / "data", 2, 50)
        datasets = {}
        for vis in VIS:
            extra = {"team": "vision"} if vis == "team" else {}
            ds = c.post("/datasets", json={"name": f"authz-{vis}", "visibility": vis, **extra})
            assert ds.status_code == 201, ds.text
            ds = ds.json()
            c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"})
            assert wait_version(c, ds["id"], 1)["status"] == "ready"
            datasets[vis] = ds
    with reg["bob"] as c:
        bob_vol = c.post("/volumes", json={"name": "bob-vol", "capacity": "1Gi"}).json()
        (reg.storage_root / "volumes" / bob_vol["id"] / "secret").mkdir(parents=True)
        (reg.storage_root / "volumes" / bob_vol["id"] / "secret" / "key.txt").write_text("bob's")
    return {"vol": vol, "team_vol": team_vol, "bob_vol": bob_vol, "datasets": datasets}


def client(reg, who):
    return reg[who]


def expect_read(who, vis):
    if who == "anon":
        return 401
    return 200 if who in READ[vis] else 404


@pytest.mark.parametrize("vis", VIS)
@pytest.mark.parametrize("who", CALLERS)
def test_read_get_versions_manifest(world, reg, who, vis):
    ds = world["datasets"][vis]
    want = expect_read(who, vis)
    with client(reg, who) as c:
        for path in (
            f"/datasets/{ds['id']}",
            f"/datasets/{ds['id']}/versions",
            f"/datasets/{ds['id']}/versions/1",
            f"/datasets/{ds['id']}/versions/latest",
            f"/datasets/{ds['id']}/versions/1/manifest",
        ):
            r = c.get(path)
            assert r.status_code == want, (path, r.text)
            if want != 200:
                assert r.json()["reason"] and r.json()["message"]
        # by name too: alice/authz-private is as hidden as its id
        r = c.get(f"/datasets/{quote('alice/authz-' + vis, safe='')}")
        assert r.status_code == want


@pytest.mark.parametrize("who", CALLERS)
def test_list_and_search_show_exactly_the_readable(world, reg, who):
    with client(reg, who) as c:
        r = c.get("/datasets", params={"q": "authz-", "limit": 1000})
        if who == "anon":
            assert r.status_code == 401
            return
        names = {d["name"] for d in r.json()["items"] if d["owner"] == "alice"}
        assert names == {f"authz-{v}" for v in VIS if who in READ[v]}
        for scope in ("mine", "team", "org", "public"):
            items = c.get("/datasets", params={"q": "authz-", "scope": scope}).json()["items"]
            assert all(who in READ[d["visibility"]] for d in items)


@pytest.mark.parametrize("vis", VIS)
@pytest.mark.parametrize("who", CALLERS)
def test_register_change_delete(world, reg, who, vis):
    ds = world["datasets"][vis]
    readable = expect_read(who, vis)
    denied = readable if readable != 200 else 403
    with client(reg, who) as c:
        body = {"volume_id": world["vol"]["id"], "path": "data"}
        r = c.post(f"/datasets/{ds['id']}/versions", json=body)
        assert r.status_code == (202 if who in WRITE else denied), r.text
        if r.status_code == 202:
            wait_version(reg["alice"], ds["id"], r.json()["number"])
        r = c.patch(f"/datasets/{ds['id']}", json={"description": f"edited by {who}"})
        assert r.status_code == (200 if who in WRITE else denied)
        if who not in WRITE:
            assert c.delete(f"/datasets/{ds['id']}").status_code == denied
            assert c.delete(f"/datasets/{ds['id']}/versions/1").status_code == denied
            r = c.put(f"/datasets/{ds['id']}/aliases/prod", json={"version": 1})
            assert r.status_code == denied
    # still there for its owner
    assert reg["alice"].get(f"/datasets/{ds['id']}/versions/1").status_code == 200


@pytest.mark.parametrize("who", CALLERS)
def test_delete_and_visibility_change(world, reg, who):
    with reg["alice"] as c:
        ds = c.post("/datasets", json={"name": f"doomed-by-{who}", "visibility": "org"}).json()
    with client(reg, who) as c:
        r = c.patch(f"/datasets/{ds['id']}", json={"visibility": "public"})
        assert r.status_code == {"alice": 200, "root": 200, "anon": 401}.get(who, 403)
        r = c.delete(f"/datasets/{ds['id']}")
        assert r.status_code == {"alice": 204, "root": 204, "anon": 401}.get(who, 403)
    if who in WRITE:
        actions = [
            e["action"]
            for e in reg["root"].get("/audit", params={"target": ds["id"]}).json()["items"]
        ]
        assert {"dataset.create", "dataset.visibility", "dataset.delete"} <= set(actions)


@pytest.mark.parametrize("who", CALLERS)
def test_volumes_are_private_to_owner_team_and_admin(world, reg, who):
    vol, team_vol = world["vol"], world["team_vol"]
    want = {"alice": 200, "root": 200, "anon": 401}.get(who, 404)
    want_team = {"alice": 200, "bob": 200, "root": 200, "anon": 401}.get(who, 404)
    with client(reg, who) as c:
        assert c.get(f"/volumes/{vol['id']}").status_code == want
        assert c.get(f"/volumes/{vol['id']}/tree").status_code == want
        assert c.get(f"/volumes/{team_vol['id']}/tree").status_code == want_team
        r = c.get("/volumes")
        if who != "anon":
            ids = {v["id"] for v in r.json()["items"]}
            assert (vol["id"] in ids) == (want == 200)
            assert (team_vol["id"] in ids) == (want_team == 200)


TRICKS = [
    "..",
    "../",
    "data/../..",
    "data/../../{bob}",
    "../{bob}/secret",
    "/etc",
    "/{root}/volumes/{bob}/secret",
    "link-out",
    "link-out/key.txt",
    "data/\0/x",
]


@pytest.mark.parametrize("trick", TRICKS)
def test_path_tricks_never_reach_another_volume(world, reg, trick):
    vol_dir = reg.storage_root / "volumes" / world["vol"]["id"]
    link = vol_dir / "link-out"
    if not link.is_symlink():
        os.symlink(reg.storage_root / "volumes" / world["bob_vol"]["id"] / "secret", link)
    path = trick.format(bob=world["bob_vol"]["id"], root=str(reg.storage_root).strip("/"))
    with reg["alice"] as c:
        r = c.get(f"/volumes/{world['vol']['id']}/tree", params={"path": path})
        assert r.status_code in (400, 404), (path, r.text)
        assert "items" not in r.json()  # an error, never a listing
        ds = world["datasets"]["private"]
        r = c.post(
            f"/datasets/{ds['id']}/versions", json={"volume_id": world["vol"]["id"], "path": path}
        )
        assert r.status_code in (400, 404), (path, r.text)
        r = c.post(
            f"/datasets/{ds['id']}/versions/1/restore",
            json={"volume_id": world["vol"]["id"], "path": path + "/x"},
        )
        assert r.status_code in (400, 404, 409), (path, r.text)


@pytest.mark.parametrize(
    "raw", ["..%2F..%2F{bob}", "%2E%2E", "data%2F%2E%2E%2F%2E%2E", "%252e%252e"]
)
def test_encoded_path_tricks(world, reg, raw):
    url = f"{reg.url}/volumes/{world['vol']['id']}/tree?path=" + raw.format(
        bob=world["bob_vol"]["id"]
    )
    r = httpx.get(url, headers={"Authorization": "token tok-alice"})
    assert r.status_code in (400, 404), r.text
    assert "items" not in r.json()


def test_other_users_volume_cannot_be_registered_or_restored_into(world, reg):
    ds_bob = reg["bob"].post("/datasets", json={"name": "bob-steals"}).json()
    with reg["bob"] as c:
        r = c.post(
            f"/datasets/{ds_bob['id']}/versions",
            json={"volume_id": world["vol"]["id"], "path": "data"},
        )
        assert r.status_code == 404 and r.json()["reason"] == "volume-not-found"
        org = world["datasets"]["org"]
        r = c.post(
            f"/datasets/{org['id']}/versions/1/restore",
            json={"volume_id": world["vol"]["id"], "path": "stolen"},
        )
        assert r.status_code == 404
        # bob may restore what he can read into his own volume
        r = c.post(
            f"/datasets/{org['id']}/versions/1/restore",
            json={"volume_id": world["bob_vol"]["id"], "path": "from-alice"},
        )
        assert r.status_code == 202


def test_mount_records_and_jobs_are_per_user(world, reg):
    priv = world["datasets"]["private"]
    org = world["datasets"]["org"]
    with reg["bob"] as c:
        r = c.put("/mounts/alice", json={"mounts": [{"version": f"{org['id']}@1"}]})
        assert r.status_code == 403
        r = c.put("/mounts/bob", json={"mounts": [{"version": f"{priv['id']}@1"}]})
        assert r.status_code == 404
        assert (
            c.put("/mounts/bob/gpu", json={"mounts": [{"version": f"{org['id']}@1"}]}).status_code
            == 200
        )
        assert c.delete("/mounts/bob/gpu").status_code == 204
        job = reg["alice"].post(f"/datasets/{priv['id']}/versions/1/verify").json()
        assert c.get(f"/jobs/{job['id']}").status_code == 404
        assert c.delete(f"/jobs/{job['id']}").status_code == 404
        assert all(e["actor"] == "bob" for e in c.get("/audit").json()["items"])


def test_event_stream_only_shows_readable_datasets(world, reg):
    got: list[dict] = []
    stop = threading.Event()

    def listen():
        from fermi_jupyter.client import RegistryClient, RegistryUnavailable

        with RegistryClient(reg.url, "tok-carol") as rc:
            try:
                for ev in rc.events():
                    got.append(ev)
                    if stop.is_set():
                        return
            except RegistryUnavailable:
                return  # the registry stopped at the end of the module

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    time.sleep(0.5)
    with reg["alice"] as c:
        for vis in ("private", "org"):
            ds = world["datasets"][vis]
            r = c.post(
                f"/datasets/{ds['id']}/versions",
                json={"volume_id": world["vol"]["id"], "path": "data"},
            )
            wait_version(c, ds["id"], r.json()["number"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(e.get("status") == "ready" for e in got):
        time.sleep(0.1)
    stop.set()
    ids = {e["dataset_id"] for e in got}
    assert world["datasets"]["org"]["id"] in ids
    assert world["datasets"]["private"]["id"] not in ids
    assert any(e["status"] == "ready" for e in got)


def test_forged_identity_headers_are_ignored(world, reg):
    headers = {"X-Forwarded-User": "alice", "X-Remote-User": "alice", "Remote-User": "alice"}
    r = httpx.get(f"{reg.url}/datasets", headers=headers)
    assert r.status_code == 401
    r = httpx.get(f"{reg.url}/datasets", headers={"Authorization": "token not-a-real-token"})
    assert r.status_code == 401
    with reg["carol"] as c:
        # an owner in the body is refused outright (unknown field), never taken as identity
        r = c.post("/datasets", json={"name": "owned-by-alice", "owner": "alice"})
        assert r.status_code == 400 and "owner" in r.json()["message"]
        r = c.post("/datasets", json={"name": "owned-by-alice"})
        assert r.status_code == 201 and r.json()["owner"] == "carol"


def test_a_hub_user_without_the_access_scope_is_refused(world, reg):
    with reg["eve"] as c:
        r = c.get("/datasets")
        assert r.status_code == 403 and r.json()["reason"] == "forbidden"
