"""Pod manifests through the real ``KubeSpawner.get_pod_manifest()``, for every shipped profile
and a matrix of mount choices, validated against the Kubernetes schemas."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import kubernetes_validate
import pytest

from fermi_jupyter.spawner.kube import FermiSpawner
from fermi_jupyter.spawner.plan import dataset_mount, volume_mount
from fermi_jupyter.spawner.profiles import load_profiles

PROFILES = load_profiles(Path(__file__).resolve().parents[2] / "kubespawner_profiles")
K8S = kubernetes_validate.utils.latest_version()
HOME = "/home/jovyan"


def ds(i, zone=None):
    d = {"id": f"ds-{i}abc", "name": f"data{i}", "zone": zone}
    v = {"number": i + 1, "status": "ready", "storage_path": f"datasets/ds-{i}abc/{i + 1}"}
    return d, v


VOL = {
    "id": "vol-work",
    "name": "work",
    "backend": "root",
    "storage_path": "volumes/vol-work",
    "zone": None,
}

CHOICES = {
    "nothing": [],
    "one dataset": [("d", 0, None)],
    "dataset asked read-write": [("d", 0, "rw")],
    "volume": [("v", None, False)],
    "volume read-only": [("v", None, True)],
    "two datasets and a volume": [("d", 0, None), ("d", 1, None), ("v", None, False)],
    "zoned dataset": [("d", 0, "zone")],
}


def build_plan(choice):
    plan = []
    for kind, i, extra in choice:
        if kind == "d":
            d, v = ds(i, zone="cn-east-1" if extra == "zone" else None)
            plan.append(dataset_mount(f"d{i}", v, d, None, HOME))
        else:
            plan.append(volume_mount("v", VOL, None, extra, HOME))
    return plan


async def manifest(profile, plan):
    spawner = FermiSpawner(_mock=True, profile_list=PROFILES, storage_pvc="fermi-storage")
    spawner.user_options = {"profile": profile["slug"]}
    await spawner.load_user_options()
    spawner.apply_plan(plan)
    pod = await spawner.get_pod_manifest()
    return spawner.api.api_client.sanitize_for_serialization(pod)


@pytest.mark.parametrize(
    ("profile", "choice"),
    list(itertools.product(PROFILES, CHOICES)),
    ids=lambda x: x["slug"] if isinstance(x, dict) else x,
)
async def test_valid_pods_with_read_only_datasets(profile, choice):
    plan = build_plan(CHOICES[choice])
    data = await manifest(profile, plan)
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Pod")
    kubernetes_validate.validate(data, K8S, strict=True)
    container = data["spec"]["containers"][0]
    assert container["image"] == profile["kubespawner_override"]["image"]
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in data["spec"].get("volumes", [])}
    for m in plan:
        vm = mounts[m.mount_path]
        assert vm["subPath"] == m.source
        if m.kind == "dataset":  # read-only on the mount and on the claim, always
            assert vm["readOnly"] is True
            assert volumes[vm["name"]]["persistentVolumeClaim"]["readOnly"] is True
        else:
            assert vm["readOnly"] is m.read_only
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert json.loads(env["FERMI_MOUNTS"])["mounts"] == [m.to_json() for m in plan]
    refs = [m.ref for m in plan if m.kind == "dataset"]
    if refs:
        assert data["metadata"]["annotations"]["fermi.io/datasets"] == ",".join(refs)
    if choice == "zoned dataset":
        terms = data["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["cn-east-1"]
    if profile["slug"] == "pytorch-a100":
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"


async def test_fifty_mounts_is_refused_but_sixteen_render():
    from fermi_jupyter.spawner.plan import PlanErrors

    many = [volume_mount(f"v{i}", VOL, f"/w{i}", False, HOME) for i in range(50)]
    with pytest.raises(PlanErrors):
        await manifest(PROFILES[0], many)
    data = await manifest(PROFILES[0], many[:16])
    assert len(data["spec"]["containers"][0]["volumeMounts"]) >= 16


class _Group:
    def __init__(self, name):
        self.name = name


class _User:
    def __init__(self, name, groups):
        self.name, self.groups, self.admin = name, [_Group(g) for g in groups], False
        self.id, self.url = 1, f"/user/{name}/"

    def new_api_token(self, **kwargs):
        return "token-for-a-registry-that-is-down"


async def test_group_limited_profiles_refused_server_side(tmp_path):
    folder = Path(__file__).resolve().parents[2] / "kubespawner_profiles"
    bob = FermiSpawner(_mock=True, user=_User("bob", ["audio"]), profiles_dir=str(folder))
    assert "vision-4gpu" not in {p["slug"] for p in bob.profile_list(bob)}
    from fermi_jupyter.spawner.plan import PlanErrors

    with pytest.raises(PlanErrors, match="not available"):
        await bob.options_from_form({"profile": ["vision-4gpu"]})
    alice = FermiSpawner(
        _mock=True,
        user=_User("alice", ["vision"]),
        profiles_dir=str(folder),
        hub_registry_url="http://127.0.0.1:9/api/v1",
    )
    options = await alice.options_from_form({"profile": ["vision-4gpu"]})
    assert options["profile"] == "vision-4gpu" and options["mounts"] == []
    form = await alice._options_form_default()(alice)
    assert "Vision team" in form and "Storage mounts" in form
    assert "registry is not reachable" in form  # degrades to a message, the form still works


async def test_profile_options_render_and_bad_choices_are_refused():
    folder = Path(__file__).resolve().parents[2] / "kubespawner_profiles"
    vision = next(p for p in PROFILES if p["slug"] == "vision-4gpu")
    spawner = FermiSpawner(
        _mock=True,
        profile_list=PROFILES,
        storage_pvc="fermi-storage",
        hub_registry_url="http://hub-side:10101/services/fermi-registry/api/v1",
        server_registry_url="http://proxy-public/services/fermi-registry/api/v1",
    )
    spawner.user_options = {"profile": "vision-4gpu", "gpus": "2"}
    await spawner.load_user_options()
    spawner.apply_plan([])
    pod = spawner.api.api_client.sanitize_for_serialization(await spawner.get_pod_manifest())
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "2" and limits["cpu"] in ("16", 16)
    assert vision["profile_options"]["gpus"]["choices"]["4"]["default"] is True
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["FERMI_REGISTRY_URL"] == "http://proxy-public/services/fermi-registry/api/v1"

    from fermi_jupyter.spawner.plan import PlanErrors

    alice = FermiSpawner(
        _mock=True,
        user=_User("alice", ["vision"]),
        profiles_dir=str(folder),
        hub_registry_url="http://127.0.0.1:9/api/v1",
    )
    for value, needle in [("0", "not one of the choices"), ("-1", "not one of the choices"),
                          ("999999", "not one of the choices")]:  # fmt: skip
        form = {"profile": ["vision-4gpu"], "profile-option-vision-4gpu--gpus": [value]}
        with pytest.raises(PlanErrors, match=needle) as e:
            await alice.options_from_form(form)
        assert e.value.errors[0].field == "profile-option-vision-4gpu--gpus"
    form = {
        "profile": ["pytorch-a100"],
        "profile-option-pytorch-a100--image--unlisted-choice": ["evil/image:latest"],
    }
    with pytest.raises(PlanErrors, match="only the listed choices"):
        await alice.options_from_form(form)
    ok = await alice.options_from_form(
        {"profile": ["vision-4gpu"], "profile-option-vision-4gpu--gpus": ["1"]}
    )
    assert ok["gpus"] == "1"
