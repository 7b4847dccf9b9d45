"""``fermi_jupyter.mounts``: the pure rules the extension, magics and CLI share (no hub)."""

from __future__ import annotations

import json
import os

import pytest

from fermi_jupyter.cli.tables import Table, width
from fermi_jupyter.mounts import MountError, load_mounts, locate, parents


@pytest.fixture
def plan(tmp_path):
    ds, ws, nested = tmp_path / "ds", tmp_path / "ws", tmp_path / "ws" / "shared"
    for d in (ds / "a", ws / "out" / "deep", nested / "x", tmp_path / "elsewhere"):
        d.mkdir(parents=True)
    (ws / "escape").symlink_to(tmp_path / "elsewhere")
    (ws / "into-ds").symlink_to(ds / "a")
    items = [
        {"kind": "dataset", "dataset_id": "ds-1", "dataset_name": "imagenet", "version": 3,
         "ref": "ds-1@3", "mount_path": str(ds), "read_only": True},
        {"kind": "volume", "volume_id": "vol-1", "volume_name": "work", "sub_path": "",
         "mount_path": str(ws), "read_only": False},
        {"kind": "volume", "volume_id": "vol-2", "volume_name": "team", "sub_path": "proj/a",
         "mount_path": str(nested), "read_only": False, "unknown_field": 1},
    ]  # fmt: skip
    return tmp_path, load_mounts({"FERMI_MOUNTS": json.dumps(items)})


@pytest.mark.parametrize(
    ("path", "volume", "sub"),
    [
        ("ws", "vol-1", ""),
        ("ws/out/deep", "vol-1", "out/deep"),
        ("ws/out/deep/../", "vol-1", "out"),
        ("ws/shared/x", "vol-2", "proj/a/x"),  # the innermost mount wins; sub_path prefixed
        ("ws/shared", "vol-2", "proj/a"),
    ],
)
def test_local_paths_become_volume_and_sub_path(plan, path, volume, sub):
    root, mounts = plan
    mount, got = locate(str(root / path), mounts)
    assert (mount.volume_id, got) == (volume, sub)


def test_relative_paths_use_the_working_directory(plan):
    root, mounts = plan
    assert locate("out", mounts, cwd=str(root / "ws"))[1] == "out"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("ds/a", "in-dataset"),
        ("ws/into-ds", "in-dataset"),  # a symlink into the dataset is resolved first
        ("ws/escape", "not-in-volume"),  # … and one leading outside is refused
        ("ws/../elsewhere", "not-in-volume"),
        ("/etc", "not-in-volume"),
    ],
)
def test_refused_paths_say_why(plan, path, reason):
    root, mounts = plan
    with pytest.raises(MountError) as e:
        locate(path if path.startswith("/") else str(root / path), mounts)
    assert e.value.reason == reason and len(str(e.value).splitlines()) == 1


def test_plan_rules():
    assert load_mounts({}) == [] and load_mounts({"FERMI_MOUNTS": " "}) == []
    bad = [{"kind": "dataset", "mount_path": "/d", "read_only": False, "dataset_id": "ds-1",
            "version": 1}]  # fmt: skip
    with pytest.raises(MountError, match="not read-only"):
        load_mounts({"FERMI_MOUNTS": json.dumps(bad)})
    with pytest.raises(MountError, match="restart the server"):
        load_mounts({"FERMI_MOUNTS": "{"})
    ok = [dict(bad[0], read_only=True), dict(bad[0], read_only=True, dataset_id="ds-0", version=2)]
    assert parents(load_mounts({"FERMI_MOUNTS": json.dumps(ok)})) == ["ds-0@2", "ds-1@1"]


def test_tables_align_wide_characters():
    t = Table(["name", "tags"], [{"name": "图像", "tags": "原始"}, {"name": "ab", "tags": "x"}])
    lines = str(t).splitlines()
    column = width(lines[1][: lines[1].index("原始")])  # 图像 takes four columns
    assert column == lines[2].index("x") == 6
    assert Table(["a"], [], "T", empty="nothing").__str__() == "T: nothing"
    assert "&lt;b&gt;" in Table(["a"], [{"a": "<b>"}])._repr_html_()


def test_cwd_default_is_the_process_cwd(plan, monkeypatch):
    root, mounts = plan
    monkeypatch.chdir(root / "ws" / "out")
    assert locate("deep", mounts)[1] == "out/deep"
    assert os.getcwd().endswith("out")
