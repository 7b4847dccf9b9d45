"""Mount plan rules, as tables: every refused choice names its field and says why."""

from __future__ import annotations

import json

import pytest

from fermi_jupyter.mounts import load_mounts
from fermi_jupyter.spawner.plan import (
    MAX_MOUNTS,
    PlanError,
    PlanErrors,
    check_plan,
    dataset_mount,
    normalize_path,
    to_env,
    volume_mount,
)

HOME = "/home/jovyan"
DS = {"id": "ds-abc", "name": "imagenet", "zone": None}
V3 = {"number": 3, "status": "ready", "storage_path": "datasets/ds-abc/3"}
VOL = {
    "id": "vol-xyz",
    "name": "work",
    "backend": "root",
    "storage_path": "volumes/vol-xyz",
    "zone": None,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/datasets/x", "/datasets/x"),
        ("/workspace/", "/workspace"),
        ("/data//in/./x", "/data/in/x"),
        ("/home/jovyan/data", "/home/jovyan/data"),
        ("/opt/data", "/opt/data"),
    ],
)
def test_good_paths(path, expected):
    assert normalize_path("f", path, HOME) == expected


@pytest.mark.parametrize(
    "path",
    [
        "",
        "relative/x",
        "/",
        "/etc",
        "/etc/x",
        "/usr/local",
        "/proc/1",
        "/dev/shm",
        "/sys",
        "/home/jovyan",
        "/home",
        "/a/../etc",
        "/tmp",
        "/root",
        "/" + "x" * 300,
        None,
        3,
    ],
)
def test_refused_paths(path):
    with pytest.raises(PlanError) as e:
        normalize_path("datasets.0.path", path, HOME)
    assert e.value.field == "datasets.0.path" and e.value.message


def test_dataset_mounts_are_read_only_and_default_their_path():
    m = dataset_mount("datasets.0", V3, DS, None, HOME)
    assert (m.read_only, m.mount_path, m.source, m.ref) == (
        True,
        "/datasets/imagenet",
        "datasets/ds-abc/3",
        "ds-abc@3",
    )


@pytest.mark.parametrize(
    ("version", "dataset", "needle"),
    [
        (None, DS, "not visible"),
        ({**V3, "status": "processing"}, DS, "not ready"),
        ({**V3, "status": "failed"}, DS, "not ready"),
        ({**V3, "storage_path": None}, DS, "no files"),
    ],
)
def test_unusable_dataset_versions(version, dataset, needle):
    with pytest.raises(PlanError) as e:
        dataset_mount("datasets.0", version, dataset, None, HOME)
    assert needle in e.value.message


def test_volume_mounts():
    m = volume_mount("volumes.0", VOL, None, False, HOME)
    assert (m.read_only, m.mount_path, m.source) == (False, "/workspace", "volumes/vol-xyz")
    m = volume_mount("volumes.0", VOL, "/out", True, HOME, sub_path="runs/1")
    assert (m.read_only, m.source, m.sub_path) == (True, "volumes/vol-xyz/runs/1", "runs/1")
    for bad in ("../other", "/abs/../../x"):
        with pytest.raises(PlanError):
            volume_mount("volumes.0", VOL, None, False, HOME, sub_path=bad)
    with pytest.raises(PlanError):
        volume_mount("volumes.0", None, None, False, HOME)
    with pytest.raises(PlanError):
        volume_mount(
            "volumes.0", {**VOL, "backend": "pvc", "storage_path": None}, None, False, HOME
        )


def test_plan_rules_duplicates_nesting_count_zones():
    a = dataset_mount("datasets.0", V3, DS, "/data", HOME)
    b = volume_mount("volumes.0", VOL, "/data", False, HOME)
    with pytest.raises(PlanErrors, match="used twice"):
        check_plan([a, b])
    c = volume_mount("volumes.0", VOL, "/data/out", False, HOME)
    with pytest.raises(PlanErrors, match="cannot nest"):
        check_plan([a, c])
    many = [volume_mount(f"volumes.{i}", VOL, f"/w{i}", False, HOME) for i in range(MAX_MOUNTS + 1)]
    with pytest.raises(PlanErrors, match=f"at most {MAX_MOUNTS}"):
        check_plan(many)
    east = dataset_mount("datasets.0", V3, {**DS, "zone": "cn-east-1"}, None, HOME)
    west = volume_mount("volumes.0", {**VOL, "zone": "cn-west-2"}, None, False, HOME)
    with pytest.raises(PlanErrors) as e:
        check_plan([east, west])
    assert "cn-east-1" in str(e.value) and "cn-west-2" in str(e.value)
    check_plan([east, volume_mount("volumes.0", {**VOL, "zone": "cn-east-1"}, None, False, HOME)])


def test_the_plan_reaches_the_server_as_fermi_mounts():
    plan = [
        dataset_mount("datasets.0", V3, DS, None, HOME),
        volume_mount("volumes.0", VOL, None, False, HOME),
    ]
    mounts = load_mounts({"FERMI_MOUNTS": to_env(plan)})
    assert [(m.kind, m.mount_path, m.read_only) for m in mounts] == [
        ("dataset", "/datasets/imagenet", True),
        ("volume", "/workspace", False),
    ]
    assert "source" not in json.loads(to_env(plan))["mounts"][0]
