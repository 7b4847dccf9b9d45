"""A real JupyterHub with LocalFermiSpawner: log in, the spawn form, every validation rule,
a crafted POST, then a real spawn in the bubblewrap sandbox with the chosen mounts."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from ..support.hub import PASSWORD
from ..support.trees import make_tree, wait_version

# the spawner does not care which database the registry uses: one hub is enough
pytestmark = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


def login(hub, name: str) -> httpx.Client:
    s = httpx.Client(base_url=hub.url, follow_redirects=False, timeout=30)
    s.get("/hub/login")
    r = s.post(
        "/hub/login",
        data={"username": name, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")},
    )
    assert r.status_code == 302, r.text
    return s


@pytest.fixture(scope="module")
def data(hub, users):
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "spawn-work", "capacity": "5Gi"}).json()
        make_tree(hub.storage_root / "volumes" / vol["id"] / "src", 4, 100)
        ds = c.post("/datasets", json={"name": "spawn-ds", "visibility": "private"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "src"})
        wait_version(c, ds["id"], 1)
        east = c.post("/datasets", json={"name": "spawn-east", "zone": "cn-east-1"}).json()
        c.post(f"/datasets/{east['id']}/versions", json={"volume_id": vol["id"], "path": "src"})
        wait_version(c, east["id"], 1)
        west_vol = c.post(
            "/volumes", json={"name": "spawn-west", "capacity": "1Gi", "zone": "cn-west-2"}
        ).json()
    with users["carol"] as c:
        cvol = c.post("/volumes", json={"name": "carol-vol", "capacity": "1Gi"}).json()
        make_tree(hub.storage_root / "volumes" / cvol["id"] / "x", 2, 10)
        secret = c.post("/datasets", json={"name": "carol-secret"}).json()
        c.post(f"/datasets/{secret['id']}/versions", json={"volume_id": cvol["id"], "path": "x"})
        wait_version(c, secret["id"], 1)
    return {
        "vol": vol,
        "ds": ds,
        "east": east,
        "west_vol": west_vol,
        "carol_vol": cvol,
        "secret": secret,
    }


def post_form(s: httpx.Client, **fields) -> httpx.Response:
    form = {"_xsrf": s.cookies.get("_xsrf", ""), **fields}
    return s.post("/hub/spawn", data=form)


def test_form_shows_storage_section_and_search(hub, users, data):
    s = login(hub, "alice")
    r = s.get("/hub/spawn")
    assert r.status_code == 200
    assert "Storage mounts" in r.text and 'data-i18n="Storage mounts"' in r.text
    zh = s.get("/hub/fermi/locale/zh_CN.json").json()  # what the form's script translates with
    assert zh["Storage mounts"] == ["存储挂载"] and zh[""]["domain"] == "fermi_jupyter"
    assert data["vol"]["id"] in r.text and "carol-vol" not in r.text
    assert "spawn-ds" not in r.text  # datasets come from the search endpoint, not the page
    r = s.get(f"/hub/fermi/datasets/{data['ds']['id']}/versions")
    assert r.status_code == 200, re.sub(r"\s+", " ", r.text)[-1500:]
    versions = r.json()["items"]
    assert [v["number"] for v in versions] == [1] and "latest" in versions[0]["aliases"]
    assert s.get(f"/hub/fermi/datasets/{data['secret']['id']}/versions").status_code == 404
    found = s.get("/hub/fermi/datasets", params={"q": "spawn-"}).json()["items"]
    assert {d["name"] for d in found} >= {"spawn-ds", "spawn-east"}
    assert "carol-secret" not in {
        d["name"] for d in s.get("/hub/fermi/datasets", params={"q": "carol"}).json()["items"]
    }


CASES = [
    ({"dataset_ref": "spawn-ds", "dataset_path": "/etc"}, "system folder"),
    ({"dataset_ref": "spawn-ds", "dataset_path": "relative"}, "must be absolute"),
    ({"dataset_ref": "spawn-ds", "dataset_path": "/home/jovyan"}, "home folder"),
    ({"dataset_ref": "spawn-ds", "dataset_version": "7"}, "not visible"),
    ({"dataset_ref": "no-such-dataset"}, "not visible"),
    ({"volume_id": "vol-doesnotexist"}, "not yours"),
    (
        {
            "dataset_ref": "spawn-ds",
            "dataset_path": "/data",
            "volume_id": "{vol}",
            "volume_path": "/data",
        },
        "used twice",
    ),
    (
        {
            "dataset_ref": "spawn-ds",
            "dataset_path": "/data",
            "volume_id": "{vol}",
            "volume_path": "/data/out",
        },
        "cannot nest",
    ),
    ({"dataset_ref": "spawn-east", "volume_id": "{west}"}, "cn-east-1"),
    ({"new_volume_name": "bad", "new_volume_size": "-3Gi"}, "capacity"),
]


@pytest.mark.parametrize(("fields", "message"), CASES, ids=[m for _, m in CASES])
def test_refused_choices_rerender_the_form_with_a_message(hub, users, data, fields, message):
    s = login(hub, "alice")
    fields = {
        k: v.format(vol=data["vol"]["id"], west=data["west_vol"]["id"]) for k, v in fields.items()
    }
    r = post_form(s, **fields)
    assert r.status_code < 500, r.text[:500]
    assert "Storage mounts" in r.text  # the form again, not an error page
    assert message in r.text
    assert 'class="fermi-error' in r.text or "alert" in r.text
    status = hub.admin().get("/users/alice").json()["servers"]
    assert status == {}  # nothing was started


def test_a_crafted_post_cannot_mount_someone_elses_data(hub, users, data):
    s = login(hub, "alice")
    r = post_form(s, dataset_ref=data["secret"]["id"])
    assert "not visible" in r.text
    r = post_form(s, volume_id=data["carol_vol"]["id"])
    assert "not yours" in r.text
    assert hub.admin().get("/users/alice").json()["servers"] == {}


def test_spawn_in_the_sandbox_with_the_chosen_mounts(hub, users, data):
    s = login(hub, "alice")
    r = post_form(
        s,
        dataset_ref=data["ds"]["id"],
        dataset_path="",
        dataset_version="latest",
        volume_id=data["vol"]["id"],
        volume_path="/workspace",
        volume_mode="rw",
    )
    assert r.status_code == 302, r.text[:1000]
    token = users.tokens["alice"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        server = hub.admin().get("/users/alice").json()["servers"].get("")
        if server and server["ready"]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"server not ready:\n{hub.log_text()[-3000:]}")
    api = httpx.Client(
        base_url=f"{hub.url}/user/alice/api",
        timeout=30,
        headers={"Authorization": f"token {token}"},
    )
    try:
        mounts = api.get("/fermi/mounts").json()["items"]
        assert [(m["kind"], m["mount_path"], m["read_only"]) for m in mounts] == [
            ("dataset", "/datasets/spawn-ds", True),
            ("volume", "/workspace", False),
        ]
        # the registry knows what is mounted: deleting that version is refused
        with users["alice"] as c:
            r = c.delete(f"/datasets/{data['ds']['id']}/versions/1")
            assert r.status_code == 409 and "alice" in r.json()["message"]
        # from inside the server: the volume takes writes, the dataset refuses them
        body = {"type": "file", "format": "text", "content": "from the server"}
        assert api.put("/contents/workspace/from-server.txt", json=body).status_code == 201
        assert (
            hub.storage_root / "volumes" / data["vol"]["id"] / "from-server.txt"
        ).read_text() == "from the server"
        r = api.put("/contents/datasets/spawn-ds/sneaky.txt", json=body)
        assert r.status_code >= 400 and re.search(r"[Rr]ead-only", r.text)
        # Lab's root is the home: it holds the links to the mounts and nothing of the host
        listing = api.get("/contents/").json()
        assert {i["name"] for i in listing["content"]} == {"datasets", "workspace"}
        inside = api.get("/contents/datasets/spawn-ds").json()["content"]
        assert sorted(i["name"] for i in inside) == ["part-000", "part-001", "part-002", "part-003"]
        # the storage root is nowhere: not by name, not by climbing out of the root
        for path in ("storage", "../../storage", str(hub.storage_root).lstrip("/")):
            assert api.get(f"/contents/{path}").status_code == 404
    finally:
        hub.admin().delete("/users/alice/server")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and hub.admin().get("/users/alice").json()["servers"]:
        time.sleep(0.3)
    with users["alice"] as c:  # stopped: the mount record is gone
        assert c.get("/mounts", params={"server": "alice"}).json()["items"] == []


def test_last_choices_are_prefilled_and_vanished_ones_dropped(hub, users, data):
    # runs after the spawn above: alice's last choices are remembered by the hub
    s = login(hub, "alice")
    form = s.get("/hub/spawn").text
    assert f'value="{data["ds"]["id"]}"' in form and "/workspace" in form
    with users["alice"] as c:  # the version she mounted last time goes away
        assert c.delete(f"/datasets/{data['ds']['id']}/versions/1").status_code == 204
    form = s.get("/hub/spawn").text
    assert "no longer available and was dropped" in form
    assert f'value="{data["ds"]["id"]}"' not in form
    assert "Storage mounts" in form  # the form still works
