"""Pod manifests through the real ``KubeSpawner.get_pod_manifest()``, for every shipped profile
and a matrix of mount choices, validated against the Kubernetes schemas."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import kubernetes_validate
import pytest
from kubespawner import KubeSpawner

from fermi_jupyter.spawner.kube import FermiSpawner
from fermi_jupyter.spawner.plan import PlanErrors, dataset_mount, volume_mount
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
    # a dataset mount that says read-write (a bug upstream, or a crafted plan): the pod must
    # still mount it read-only, on the mount and on the claim
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
            m = dataset_mount(f"d{i}", v, d, None, HOME)
            if extra == "rw":  # past the type's own rule, as a bug would be
                object.__setattr__(m, "read_only", False)
                assert m.read_only is False
            plan.append(m)
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
        if m.kind == "dataset":  # read-only on the mount and on the claim, whatever it says
            assert vm["readOnly"] is True
            assert volumes[vm["name"]]["persistentVolumeClaim"]["readOnly"] is True
        else:
            assert vm["readOnly"] is m.read_only
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    served = json.loads(env["FERMI_MOUNTS"])["mounts"]
    assert [x["mount_path"] for x in served] == [m.mount_path for m in plan]
    assert all(x["read_only"] for x in served if x["kind"] == "dataset")
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
    many = [volume_mount(f"v{i}", VOL, f"/w{i}", False, HOME) for i in range(50)]
    with pytest.raises(PlanErrors):
        await manifest(PROFILES[0], many)
    data = await manifest(PROFILES[0], many[:16])
    assert len(data["spec"]["containers"][0]["volumeMounts"]) >= 16


class _Group:
    def __init__(self, name):
        self.name = name


class _User:
    """What the spawner uses of JupyterHub's ``User``: name, groups, admin, a token maker."""

    def __init__(self, name, groups, token="token-for-a-registry-that-is-down", fail=None):
        self.name, self.groups, self.admin = name, [_Group(g) for g in groups], False
        self.id, self.url = 1, f"/user/{name}/"
        self._token, self._fail = token, fail

    def new_api_token(self, **kwargs):
        if self._fail:
            raise self._fail
        return self._token


FOLDER = Path(__file__).resolve().parents[2] / "kubespawner_profiles"


async def refusal(coro) -> PlanErrors:
    """The refusal a form submission ends in (its messages are shown next to the fields)."""
    with pytest.raises(PlanErrors) as e:
        await coro
    return e.value


def says(e: PlanErrors) -> str:
    return "; ".join(str(x.message) for x in e.errors)


DOWN = "http://127.0.0.1:9/api/v1"  # nothing listens there


async def test_group_limited_profiles_refused_server_side():
    bob = FermiSpawner(
        _mock=True, user=_User("bob", ["audio"]), profiles_dir=str(FOLDER), hub_registry_url=DOWN
    )
    assert "vision-4gpu" not in {p["slug"] for p in bob.profile_list(bob)}
    e = await refusal(bob.run_options_from_form({"profile": ["vision-4gpu"]}))
    assert "not available" in says(e) and e.errors[0].field == "profile"
    alice = FermiSpawner(
        _mock=True, user=_User("alice", ["vision"]), profiles_dir=str(FOLDER), hub_registry_url=DOWN
    )
    options = alice.options_from_form({"profile": ["vision-4gpu"]})
    assert options == {"profile": "vision-4gpu", "storage": {"datasets": [], "volumes": []}}
    form = await alice._options_form_default()(alice)
    assert "Vision team" in form and "Storage mounts" in form
    assert "registry-down" in form  # degrades to a message, the form still works


async def test_profile_options_render_and_bad_choices_are_refused():
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

    alice = FermiSpawner(
        _mock=True, user=_User("alice", ["vision"]), profiles_dir=str(FOLDER), hub_registry_url=DOWN
    )
    for value, needle in [("0", "not one of the choices"), ("-1", "not one of the choices"),
                          ("999999", "not one of the choices")]:  # fmt: skip
        form = {"profile": ["vision-4gpu"], "profile-option-vision-4gpu--gpus": [value]}
        e = await refusal(alice.run_options_from_form(form))
        assert needle in says(e) and e.errors[0].field == "profile-option-vision-4gpu--gpus"
    form = {
        "profile": ["pytorch-a100"],
        "profile-option-pytorch-a100--image--unlisted-choice": ["evil/image:latest"],
    }
    assert "only the listed choices" in says(await refusal(alice.run_options_from_form(form)))
    ok = await alice.run_options_from_form(
        {"profile": ["vision-4gpu"], "profile-option-vision-4gpu--gpus": ["1"]}
    )
    assert ok["gpus"] == "1"


# -- FermiSpawner keeps KubeSpawner's behaviour -------------------------------------------------
PLAIN = [  # profiles as an admin writes them for KubeSpawner: no slug, no fermi section
    {"display_name": "Small", "kubespawner_override": {"cpu_limit": 1}},
    {
        "display_name": "Big",
        "default": True,
        "kubespawner_override": {"cpu_limit": 4},
        "profile_options": {
            "image": {
                "display_name": "Image",
                "choices": {
                    "base": {"display_name": "base", "kubespawner_override": {"image": "b:1"}},
                    "sci": {"display_name": "sci", "kubespawner_override": {"image": "s:1"}},
                },
            }
        },
    },
]
AS_DICT = {"small": {**PLAIN[0], "slug": "small"}, "big": {**PLAIN[1], "slug": "big"}}


def _as_callable(spawner):
    return PLAIN


async def _as_coroutine(spawner):
    return PLAIN


@pytest.mark.parametrize(
    "profile_list",
    [PLAIN, AS_DICT, _as_callable, _as_coroutine],
    ids=["list-without-slugs", "dict-by-slug", "callable", "async-callable"],
)
async def test_every_profile_list_kubespawner_accepts(profile_list):
    stock = KubeSpawner(_mock=True, profile_list=profile_list)
    ours = FermiSpawner(
        _mock=True, profile_list=profile_list, user=_User("ann", []), hub_registry_url=DOWN
    )
    slugs = [p["slug"] for p in await ours.allowed_profiles()]
    assert sorted(slugs) == ["big", "small"]  # a dict is ordered by slug, as KubeSpawner does
    form = await ours._options_form_default()(ours)
    stock_form = stock._options_form_default()
    stock_form = await stock_form(stock) if callable(stock_form) else stock_form
    assert stock_form and stock_form in form  # KubeSpawner's own cards, then storage
    assert "Storage mounts" in form
    data = {"profile": ["big"], "profile-option-big--image": ["sci"], "volume_id": [""]}
    theirs = stock.options_from_form({k: v for k, v in data.items() if k != "volume_id"})
    mine = ours.options_from_form(data)
    assert isinstance(mine, dict)  # a dict, as KubeSpawner's hook returns: not a coroutine
    assert (
        {k: v for k, v in mine.items() if k != "storage"}
        == theirs
        == {
            "profile": "big",
            "image": "sci",
        }
    )
    checked = await ours.run_options_from_form(data)  # what the hub calls: async, checked
    assert checked["image"] == "sci"
    ours.user_options = checked
    await ours.load_user_options()
    assert ours.image == "s:1" and ours.cpu_limit == 4


async def test_the_form_degrades_when_no_registry_token_can_be_made():
    spawner = FermiSpawner(
        _mock=True,
        profile_list=PLAIN,
        user=_User("no-token-for-zoe", [], fail=ValueError("scopes not allowed")),
        hub_registry_url=DOWN,
    )
    form = await spawner._options_form_default()(spawner)
    assert "Small" in form and "Storage mounts" in form  # the profile cards still work
    assert "could not give you a token" in form and "scopes not allowed" in form
    e = await refusal(spawner.run_options_from_form({"profile": ["small"], "dataset_ref": ["x"]}))
    assert "could not give you a token" in says(e)
