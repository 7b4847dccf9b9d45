"""A real JupyterHub with FermiSpawner (KubeSpawner's profile form plus storage mounts).

No cluster runs here (the kubeconfig from conftest points at a closed port), so pods are never
created: the tests cover the form and the server-side validation, which run in the hub."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from ..support.hub import Hub
from ..support.trees import make_tree, wait_version
from .test_hub_spawn import login, post_form

PROFILES = Path(__file__).resolve().parents[2] / "kubespawner_profiles"
DEFAULT_MOUNTS = "mounts:\n  datasets:\n    - {ref: k-ds, mount_path: /datasets/k-default}\n"


KUBE_CONFIG = """
# the Kubernetes form, previewed on the local hub (starting pods needs a cluster)
from fermi_jupyter.spawner.kube import FermiSpawner
c.JupyterHub.spawner_class = FermiSpawner
c.FermiSpawner.profiles_dir = {profiles!r}
c.FermiSpawner.hub_registry_url = c.LocalFermiSpawner.hub_registry_url
c.FermiSpawner.start_timeout = 10
c.FermiSpawner.k8s_api_request_timeout = 3
c.FermiSpawner.k8s_api_request_retry_timeout = 6
"""


class KubeHub(Hub):
    def start(self, timeout: float = 60) -> Hub:
        self.extra_config = KUBE_CONFIG.format(profiles=str(self.profiles))
        return super().start(timeout)

    @property
    def profiles(self) -> Path:
        """The shipped profiles; the default one also mounts alice's dataset k-ds."""
        folder = self.home / "profiles"
        if not folder.exists():
            folder.mkdir(parents=True)
            for f in PROFILES.glob("*.yaml"):
                text = f.read_text()
                if "default: true" in text:
                    text = text.replace("mounts:\n", DEFAULT_MOUNTS, 1)
                (folder / f.name).write_text(text)
        return folder


@pytest.fixture(scope="module")
def khub():
    home = Path(tempfile.mkdtemp(prefix="fermi-kubehub-"))
    h = KubeHub(home=home, db_url=f"sqlite:///{home / 'kube.sqlite'}")
    try:
        h.start()
        yield h
    finally:
        h.stop()
        h.cleanup()


@pytest.fixture(scope="module")
def kdata(khub):
    tokens = {
        "alice": khub.create_user("alice", groups=("vision",)),
        "carol": khub.create_user("carol", groups=("audio",)),
    }
    with khub.client(tokens["alice"]) as c:
        vol = c.post("/volumes", json={"name": "k-work", "capacity": "2Gi"}).json()
        make_tree(khub.storage_root / "volumes" / vol["id"] / "src", 2, 10)
        ds = c.post("/datasets", json={"name": "k-ds"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "src"})
        wait_version(c, ds["id"], 1)
    with khub.client(tokens["carol"]) as c:
        cvol = c.post("/volumes", json={"name": "k-carol", "capacity": "1Gi"}).json()
        make_tree(khub.storage_root / "volumes" / cvol["id"] / "x", 2, 10)
        secret = c.post("/datasets", json={"name": "k-secret"}).json()
        c.post(f"/datasets/{secret['id']}/versions", json={"volume_id": cvol["id"], "path": "x"})
        wait_version(c, secret["id"], 1)
    return {"vol": vol, "ds": ds, "secret": secret, "carol_vol": cvol}


def test_profile_form_with_storage_and_group_limited_profiles(khub, kdata):
    alice = login(khub, "alice").get("/hub/spawn").text
    assert "PyTorch 2.1.0 + CUDA 12.1" in alice and "Vision team" in alice
    assert "profile-option-vision-4gpu--gpus" in alice and "Storage mounts" in alice
    assert kdata["vol"]["id"] in alice and kdata["carol_vol"]["id"] not in alice
    carol = login(khub, "carol").get("/hub/spawn").text
    assert "PyTorch 2.1.0 + CUDA 12.1" in carol and "Vision team" not in carol
    # a first spawn: the default profile's mounts are pre-filled (what the user may see of them)
    assert 'value="/datasets/k-default"' in alice and 'value="k-ds"' in alice
    assert "k-default" not in carol and "default dataset k-ds is not available to you" in carol


KCASES = [
    ("carol", {"profile": "vision-4gpu"}, "not available to you"),
    ("alice", {"profile": "no-such-profile"}, "not available to you"),
    ("alice", {"profile": "vision-4gpu", "profile-option-vision-4gpu--gpus": "0"}, "choices"),
    ("alice", {"profile": "vision-4gpu", "profile-option-vision-4gpu--gpus": "-2"}, "choices"),
    (
        "alice",
        {"profile": "pytorch-a100", "profile-option-pytorch-a100--image--unlisted-choice": "x"},
        "only the listed choices",
    ),
    ("alice", {"profile": "cpu-small", "dataset_ref": "k-ds", "dataset_path": "/usr"}, "system"),
    ("alice", {"profile": "cpu-small", "dataset_ref": "{secret}"}, "not visible"),
    ("alice", {"profile": "cpu-small", "volume_id": "{carol_vol}"}, "not yours"),
    (
        "alice",
        {"profile": "cpu-small", "new_volume_name": "big", "new_volume_size": "0"},
        "capacity",
    ),
]


@pytest.mark.parametrize(("who", "fields", "message"), KCASES, ids=[c[2] for c in KCASES])
def test_refused_choices_on_the_kubernetes_form(khub, kdata, who, fields, message):
    s = login(khub, who)
    fields = {
        k: v.format(secret=kdata["secret"]["id"], carol_vol=kdata["carol_vol"]["id"])
        for k, v in fields.items()
    }
    r = post_form(s, **fields)
    assert r.status_code < 500, r.text[:500]
    assert "Storage mounts" in r.text and message in r.text
    assert khub.admin().get(f"/users/{who}").json()["servers"] == {}


def _settled(khub: KubeHub, who: str) -> None:
    """Wait until ``who``'s failed start and its clean-up are over (seconds: the pod's deletion
    is retried for ``k8s_api_request_retry_timeout``); on a hang, fail with the hub's log."""
    deadline = time.monotonic() + 90
    while True:
        server = khub.admin().get(f"/users/{who}").json()["servers"].get("")
        if not server or not server.get("pending"):
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"still {server.get('pending')!r} after 90 s; the hub's log:\n"
                + khub.log_text()[-8000:]
            )
        time.sleep(0.5)


def test_valid_choices_are_accepted_and_remembered(khub, kdata):
    s = login(khub, "alice")
    form = {
        "profile": "vision-4gpu",
        "profile-option-vision-4gpu--gpus": "2",
        "dataset_ref": kdata["ds"]["id"],
        "dataset_version": "latest",
        "dataset_path": "/datasets/k",
        "volume_id": kdata["vol"]["id"],
        "volume_path": "/workspace",
        "volume_mode": "rw",
    }
    # accepted: the spawn got past validation to the Kubernetes API, which does not exist here
    # (JupyterHub answers 500 "error starting server" when a start fails this fast)
    r = post_form(s, **form)
    assert r.status_code in (302, 500), r.text[:500]
    # KubeSpawner starts its pod and event reflectors together and cancelled the other when
    # one failed; the cancelled one never loaded, and the stop after the failed start (or any
    # later start) waited for it forever: the server stayed pending (twice in CI). FermiSpawner
    # drops such a reflector. A second start must fail as promptly as the first.
    _settled(khub, "alice")
    r = post_form(s, **form)
    assert r.status_code in (302, 500), r.text[:500]
    _settled(khub, "alice")
    assert "Cannot connect to host 127.0.0.1:9" in khub.log_text()
    assert "No such profile" not in khub.log_text()
    page = s.get("/hub/spawn").text
    assert "Storage mounts" in page
    assert f'value="{kdata["ds"]["id"]}"' in page and 'value="/datasets/k"' in page


def test_a_remembered_profile_no_longer_allowed_is_dropped_with_a_notice(khub, kdata):
    s = login(khub, "alice")  # alice last chose vision-4gpu (the test above)
    with khub.admin() as admin:
        admin.request("DELETE", "/groups/vision/users", json={"users": ["alice"]})
        try:
            form = s.get("/hub/spawn").text
        finally:
            admin.post("/groups/vision/users", json={"users": ["alice"]})
    assert "profile vision-4gpu is no longer available to you" in form
    assert "Vision team" not in form and "Storage mounts" in form
    assert 'value="/datasets/k"' in form  # the storage choices are still remembered


def test_the_number_of_mounts_is_bounded(khub, kdata):
    s = login(khub, "alice")
    n = 17
    r = s.post(
        "/hub/spawn",
        data={
            "_xsrf": s.cookies.get("_xsrf", ""),
            "profile": "cpu-small",
            "dataset_ref": [kdata["ds"]["id"]] * n,
            "dataset_version": ["latest"] * n,
            "dataset_path": [f"/datasets/k{i}" for i in range(n)],
        },
    )
    assert r.status_code == 200 and "at most 16 per server" in r.text
    assert khub.admin().get("/users/alice").json()["servers"] == {}


def test_a_refused_form_creates_no_volume(khub, kdata):
    s = login(khub, "alice")
    r = post_form(
        s,
        profile="cpu-small",
        dataset_ref=kdata["ds"]["id"],
        dataset_path="/data",
        new_volume_name="never-created",
        new_volume_size="1Gi",
        new_volume_path="/data/out",
    )
    assert r.status_code == 200 and "cannot nest" in r.text
    r = post_form(s, profile="cpu-small", new_volume_name="never-created", new_volume_path="/proc")
    assert r.status_code == 200 and "system folder" in r.text and 'class="fermi-error' in r.text
    with khub.client(khub.create_user("alice")) as c:
        assert "never-created" not in {v["name"] for v in c.get("/volumes").json()["items"]}
