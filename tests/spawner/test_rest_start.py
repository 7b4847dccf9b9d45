"""Starts through the hub's REST API are checked like the form: every attack below is refused
with a 400 and a readable message, and none reaches a sandbox (LocalFermiSpawner through a
real hub) or a pod manifest (FermiSpawner, in-process, resolving through the same real
registry as the user). A plan stored by an earlier start is never trusted."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import kubernetes_validate
import pytest
from tornado import web

from fermi_jupyter.spawner.kube import FermiSpawner

from ..support.trees import make_tree, wait_version
from .test_pod_manifest import FOLDER, _User

pytestmark = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def world(hub, users):
    host = Path(tempfile.mkdtemp(prefix="fermi-host-target-"))
    (host / "precious.txt").write_text("a host file no server may touch")
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "rest-work", "capacity": "1Gi"}).json()
        make_tree(hub.storage_root / "volumes" / vol["id"] / "src", 2, 10)
        ds = c.post("/datasets", json={"name": "rest-ds"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "src"})
        wait_version(c, ds["id"], 1)
    with users["carol"] as c:
        cvol = c.post("/volumes", json={"name": "rest-carol", "capacity": "1Gi"}).json()
        make_tree(hub.storage_root / "volumes" / cvol["id"] / "x", 2, 10)
        cds = c.post("/datasets", json={"name": "rest-carol-ds"}).json()
        c.post(f"/datasets/{cds['id']}/versions", json={"volume_id": cvol["id"], "path": "x"})
        wait_version(c, cds["id"], 1)
    yield {
        "host": host,
        "vol": vol["id"],
        "ds": ds["id"],
        "carol_vol": cvol["id"],
        "carol_ds": cds["id"],
    }
    shutil.rmtree(host, ignore_errors=True)


def fill(body, world):
    text = json.dumps(body)
    for key in ("host", "vol", "ds", "carol_vol", "carol_ds"):
        text = text.replace("{" + key + "}", str(world[key]))
    return json.loads(text)


def volume(vid="{vol}", **extra):
    return {"storage": {"volumes": [{"volume_id": vid, "path": "/workspace", **extra}]}}


def at(path):
    return {"storage": {"volumes": [{"volume_id": "{vol}", "path": path}]}}


ATTACKS = [
    ("another user's volume read-write", volume("{carol_vol}", read_only=False), "not yours"),
    ("another user's private dataset", {"storage": {"datasets": [{"ref": "{carol_ds}"}]}},
     "not visible"),
    ("a dataset with read_only false",
     {"storage": {"datasets": [{"ref": "{ds}", "read_only": False}]}}, "always read-only"),
    ("a .. source to a host folder (a stored plan)",
     {"mounts": [{"kind": "volume", "source": "../../../../../{host}", "mount_path": "/h",
                  "read_only": False}]}, "unknown keys 'mounts'"),
    ("a .. volume id", volume("../../../../../{host}"), "not a volume id"),
    ("a sub path climbing out", volume(sub_path="../../../../{host}"), "unknown key 'sub_path'"),
    ("a volume over /etc", at("/etc"), "system folder"),
    ("a volume over //etc", at("//etc"), "system folder"),
    ("a volume over the home", at("/home/jovyan"), "home folder"),
    ("a volume over //home/jovyan/", at("//home/jovyan/"), "home folder"),
    ("a newline in a mount path", at("/data\nx"), "U+000A"),
    ("a right-to-left override", at("/data\u202ex"), "U+202E"),
    ("a zero-width space", at("/data\u200bx"), "U+200B"),
    ("a NUL", at("/data\0x"), "U+0000"),
    ("1,000 mounts", {"storage": {"datasets": [{"ref": "{ds}"}] * 1000}},
     "1000 mounts asked; at most 16"),
    ("unknown keys", {"image": "evil/root:latest", "cmd": ["sh"]}, "unknown keys"),
    ("a profile that does not exist", {"profile": "no-such-profile"}, "not available"),
    ("a GPU profile on a machine without GPUs", {"profile": "pytorch-a100"}, "GPU"),
    ("a huge version number",
     {"storage": {"datasets": [{"ref": "{ds}", "version": "9" * 30}]}}, "at most 9 digits"),
    ("storage that is not an object", {"storage": "everything"}, "must be an object"),
]  # fmt: skip


def servers(hub, user="alice"):
    return hub.admin().get(f"/users/{user}").json()["servers"]


def assert_refused(r: httpx.Response, needle: str, hub, world) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    assert needle in r.json()["message"], r.json()["message"]
    assert not any(s.get("ready") or s.get("pending") for s in servers(hub).values())
    assert sorted(os.listdir(world["host"])) == ["precious.txt"]


@pytest.mark.parametrize(("name", "body", "needle"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_rest_start_attacks_are_refused(hub, users, world, name, body, needle):
    mark = len(hub.log_text())
    with httpx.Client(
        base_url=hub.api, headers={"Authorization": f"token {users.tokens['alice']}"}
    ) as api:
        r = api.post("/users/alice/server", json=fill(body, world), timeout=60)
    assert_refused(r, needle, hub, world)
    log = hub.log_text()[mark:]
    assert "Traceback" not in log and " 500 " not in log  # a refusal, not a failure


def test_named_servers_and_admins_are_checked_the_same(hub, users, world):
    alice = {"Authorization": f"token {users.tokens['alice']}"}
    with httpx.Client(base_url=hub.api, headers=alice, timeout=60) as api:
        r = api.post("/users/alice/servers/gpu", json=fill(at("//etc"), world))
        assert_refused(r, "system folder", hub, world)
    # an admin starting alice's server gets alice's view of the registry, not an admin's
    with hub.admin() as admin:
        r = admin.post("/users/alice/server", json=fill(volume("{carol_vol}"), world), timeout=60)
        assert_refused(r, "not yours", hub, world)


def test_a_stored_plan_is_never_trusted(hub, users, world):
    alice = {"Authorization": f"token {users.tokens['alice']}"}
    with httpx.Client(base_url=hub.api, headers=alice, timeout=60) as api:
        # choices stored without a start (PUT), then edited (PATCH), then started with no body
        good = {"user_options": fill(volume(), world)}
        assert api.put("/users/alice/servers/later", json=good).status_code == 201
        sneaky = {"mounts": [{"kind": "volume", "source": f"../../../../..{world['host']}",
                              "mount_path": "/h", "read_only": False}]}  # fmt: skip
        assert api.patch("/users/alice/servers/later", json={"user_options": sneaky}).is_success
        assert_refused(api.post("/users/alice/servers/later"), "unknown keys", hub, world)
        api.request("DELETE", "/users/alice/servers/later", json={"remove": True})


def test_a_valid_rest_start_mounts_what_the_registry_says(hub, users, world):
    token = users.tokens["alice"]
    body = {
        "profile": "cpu-small",
        "storage": {
            "datasets": [{"ref": "alice/rest-ds", "version": 1}],
            "volumes": [{"volume_id": world["vol"], "path": "/workspace"}],
        },
    }
    with httpx.Client(base_url=hub.api, headers={"Authorization": f"token {token}"}) as api:
        r = api.post("/users/alice/server", json=body, timeout=60)
        assert r.status_code in (201, 202), r.text
        deadline = time.monotonic() + 90
        while not servers(hub).get("", {}).get("ready"):
            assert time.monotonic() < deadline, hub.log_text()[-3000:]
            time.sleep(0.5)
        user = httpx.Client(
            base_url=f"{hub.url}/user/alice/api", headers={"Authorization": f"token {token}"}
        )
        mounts = user.get("/fermi/mounts").json()["items"]
        assert [(m["kind"], m["mount_path"], m["read_only"]) for m in mounts] == [
            ("dataset", "/datasets/rest-ds", True),
            ("volume", "/workspace", False),
        ]
        stored = hub.admin().get("/users/alice").json()["servers"][""]["user_options"]
        assert set(stored) == {"profile", "storage"}  # choices only: no locations
        api.delete("/users/alice/server", timeout=60)
        while servers(hub):
            time.sleep(0.3)
        # the dataset version goes away; a start with the remembered choices is checked again
        with users["alice"] as c:
            assert c.delete(f"/datasets/{world['ds']}/versions/1").status_code == 204
        assert_refused(api.post("/users/alice/server", timeout=60), "not visible", hub, world)


def test_a_reference_version_swapped_for_a_link_is_not_mounted(hub, users, world):
    """A reference version is mounted from its owner's volume; the owner swaps the folder for
    a link to someone else's volume before starting: refused, nothing mounted."""
    with users["alice"] as c:
        ref_dir = hub.storage_root / "volumes" / world["vol"] / "in-place"
        make_tree(ref_dir, 2, 10, seed=7)
        ds = c.post("/datasets", json={"name": "rest-ref"}).json()
        r = c.post(
            f"/datasets/{ds['id']}/versions",
            json={"volume_id": world["vol"], "path": "in-place", "mode": "reference"},
        )
        assert r.status_code == 202, r.text
        wait_version(c, ds["id"], 1)
    shutil.rmtree(ref_dir)
    ref_dir.symlink_to(hub.storage_root / "volumes" / world["carol_vol"])
    body = {"storage": {"datasets": [{"ref": "alice/rest-ref"}]}}
    with httpx.Client(
        base_url=hub.api, headers={"Authorization": f"token {users.tokens['alice']}"}
    ) as api:
        r = api.post("/users/alice/server", json=body, timeout=60)
    assert_refused(r, "symbolic link", hub, world)
    ref_dir.unlink()


# -- FermiSpawner, in-process, against the same real registry -------------------------------------
K8S = kubernetes_validate.utils.latest_version()


def kube_spawner(hub, users) -> FermiSpawner:
    return FermiSpawner(
        _mock=True,
        user=_User("alice", ["vision"], token=users.tokens["alice"]),
        profiles_dir=str(FOLDER),
        hub_registry_url=hub.registry_url,
        storage_pvc="fermi-storage",
    )


KUBE_ATTACKS = [a for a in ATTACKS if "GPU profile" not in a[0]]  # a cluster has GPUs


@pytest.mark.parametrize(("name", "body", "needle"), KUBE_ATTACKS, ids=[a[0] for a in KUBE_ATTACKS])
async def test_rest_start_attacks_never_reach_a_pod(hub, users, world, name, body, needle):
    spawner = kube_spawner(hub, users)
    spawner.user_options = fill(body, world)
    with pytest.raises(web.HTTPError) as e:
        await spawner.start()
    assert e.value.status_code == 400 and needle in e.value.jupyterhub_message
    pod = spawner.api.api_client.sanitize_for_serialization(await spawner.get_pod_manifest())
    names = {v["name"] for v in pod["spec"].get("volumes", [])}
    assert not names & {"fermi-datasets", "fermi-volumes"}
    env = {x["name"] for x in pod["spec"]["containers"][0].get("env", [])}
    assert "FERMI_MOUNTS" not in env


async def test_a_valid_kube_start_renders_the_registrys_answer(hub, users, world):
    spawner = kube_spawner(hub, users)
    spawner.user_options = {
        "profile": "cpu-small",
        "storage": {
            "volumes": [{"volume_id": world["vol"], "path": "/workspace", "read_only": True}]
        },
    }
    spawner._fermi_option_keys = await spawner._profile_option_keys()
    plan = await spawner.plan_for_start()
    await spawner.load_user_options()
    spawner.apply_plan(plan)
    pod = spawner.api.api_client.sanitize_for_serialization(await spawner.get_pod_manifest())
    pod.setdefault("apiVersion", "v1")
    pod.setdefault("kind", "Pod")
    kubernetes_validate.validate(pod, K8S, strict=True)
    (mount,) = [
        m for m in pod["spec"]["containers"][0]["volumeMounts"] if m["name"].startswith("fermi")
    ]
    assert mount == {
        "name": "fermi-volumes",
        "mountPath": "/workspace",
        "subPath": f"volumes/{world['vol']}",  # from the registry, not from the request
        "readOnly": True,
    }
