"""The mount contract: one type, its FERMI_MOUNTS JSON, and the path rules (tables)."""

from __future__ import annotations

import json

import pytest

from fermi_jupyter.domain.mount_rules import PlanError, PlanErrors, check_plan, normalize_path
from fermi_jupyter.domain.mounts import (
    MAX_MOUNTS,
    Mount,
    MountFormatError,
    MountKind,
    decode,
    encode,
    volume_source,
)

DS = Mount(
    kind=MountKind.dataset,
    mount_path="/datasets/imagenet",
    read_only=True,
    source="datasets/ds-1/3",
    zone="cn-east-1",
    dataset_id="ds-1",
    dataset_name="imagenet",
    dataset_owner="alice",
    version=3,
)
VOL = Mount(
    kind="volume", mount_path="/workspace", read_only=False, volume_id="vol-1", volume_name="w"
)


def test_round_trip_keeps_everything_the_server_needs():
    back = decode(encode([DS, VOL]))
    assert back == [DS.replace(source="", zone=None), VOL]
    assert back[0].ref == "ds-1@3" and back[0].name == "imagenet@3"
    raw = json.loads(encode([DS]))
    assert raw["version"] == 1 and "source" not in raw["mounts"][0]
    assert raw["mounts"][0]["ref"] == "ds-1@3"


def test_unknown_keys_are_kept_not_dropped():
    item = {**VOL.to_json(), "quota": "5Gi"}
    (m,) = decode(json.dumps({"version": 1, "mounts": [item]}))
    assert m.extra == {"quota": "5Gi"} and json.loads(encode([m]))["mounts"][0]["quota"] == "5Gi"


def test_a_dataset_is_read_only_whatever_is_asked():
    assert Mount(kind="dataset", mount_path="/d", read_only=False).read_only is True
    bad = {**DS.to_json(), "read_only": False}
    with pytest.raises(MountFormatError, match="not read-only"):
        decode(json.dumps({"version": 1, "mounts": [bad]}))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("{", "not JSON"),
        ('{"version": 2, "mounts": []}', "format version 2"),
        ('{"version": 1}', "no list"),
        ('"x"', "must be a JSON object"),
        ('[{"kind": "volume"}]', "missing mount_path, read_only"),
        ('[{"kind": "tape", "mount_path": "/t", "read_only": true}]', "tape"),
        ('[{"kind": "volume", "mount_path": "/t", "read_only": "no"}]', "read_only"),
        (
            '[{"kind": "dataset", "mount_path": "/t", "read_only": true, "version": true}]',
            "version",
        ),
        ("[1]", "JSON object"),
        (json.dumps([VOL.to_json()] * (MAX_MOUNTS + 1)), f"at most {MAX_MOUNTS}"),
    ],
)
def test_bad_fermi_mounts_say_what_is_wrong(raw, match):
    with pytest.raises(MountFormatError, match=match):
        decode(raw)


def test_servers_started_before_the_versioned_format_still_read_their_plan():
    assert decode(json.dumps([VOL.to_json()])) == [VOL]
    assert decode("") == [] and decode("  ") == []


def test_one_function_builds_storage_paths():
    assert volume_source("vol-1") == "volumes/vol-1"
    assert volume_source("vol-1", "/a/b/") == "volumes/vol-1/a/b"


HOME = "/home/jovyan"


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("/datasets/imagenet", "/datasets/imagenet"),
        ("/workspace/", "/workspace"),
        ("/data/./x//y", "/data/x/y"),
        ("/daten/cafe\u0301", "/daten/caf\u00e9"),  # one Unicode normal form (NFC)
        ("/opt/data", "/opt/data"),
        ("/data with space", "/data with space"),
    ],
)
def test_paths_are_normalised_before_any_rule(path, want):
    assert normalize_path("f", path, HOME) == want


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("//etc", "system folder"),
        ("///usr/lib", "system folder"),
        ("//home/jovyan", "home folder"),
        ("/home", "system folder"),
        ("/home/", "system folder"),
        ("/", "system folder"),
        ("/data/../etc", "'..'"),
        ("/x\ny", "U\\+000A"),
        ("/x\u202ey", "U\\+202E"),  # right-to-left override
        ("/x\u200by", "U\\+200B"),  # zero-width space
        ("/x\ay", "U\\+0007"),  # bell
        ("/x\0y", "U\\+0000"),
        ("/x\u00a0y", "U\\+00A0"),  # no-break space looks like a space
        ("/" + "a" * 255, "at most 255"),
        ("data", "absolute"),
        ("", "required"),
        (None, "required"),
        (["/a"], "required"),
    ],
)
def test_refused_paths_each_say_their_own_reason(path, match):
    with pytest.raises(PlanError, match=match):
        normalize_path("f", path, HOME)


def test_plan_limits():
    many = [VOL.replace(mount_path=f"/w{i}") for i in range(MAX_MOUNTS + 1)]
    with pytest.raises(PlanErrors, match=f"at most {MAX_MOUNTS}"):
        check_plan(many)
    with pytest.raises(PlanErrors, match="cannot nest"):
        check_plan([VOL, VOL.replace(mount_path="/workspace/x")])
    with pytest.raises(PlanErrors, match="used twice"):
        check_plan([VOL, VOL])
    check_plan([DS, VOL])
