"""What a user may choose, read strictly from the form and from a REST body (tables)."""

from __future__ import annotations

import pytest

from fermi_jupyter.domain.mount_rules import PlanErrors
from fermi_jupyter.spawner.choices import (
    DatasetChoice,
    NewVolume,
    VolumeChoice,
    from_form,
    from_options,
    lenient,
)


def test_the_form_keeps_filled_rows():
    c = from_form(
        {
            "dataset_ref": ["alice/imagenet", "", "ds-abcd1234"],
            "dataset_version": ["3", "latest", ""],
            "dataset_path": ["/d", "", ""],
            "volume_id": ["", "vol-abcd1234"],
            "volume_path": ["", "/w"],
            "volume_mode": ["rw", "ro"],
            "new_volume_name": ["out"],
            "new_volume_size": [""],
            "new_volume_type": ["hdd"],
        }
    )
    assert c.datasets == [DatasetChoice("alice/imagenet", "3", "/d"), DatasetChoice("ds-abcd1234")]
    assert c.volumes == [VolumeChoice("vol-abcd1234", "/w", True)]
    assert c.new_volume == NewVolume("out", "100Gi", "hdd", "")
    assert c.to_json() == {
        "datasets": [
            {"ref": "alice/imagenet", "version": "3", "path": "/d"},
            {"ref": "ds-abcd1234", "version": "latest", "path": ""},
        ],
        "volumes": [{"volume_id": "vol-abcd1234", "path": "/w", "read_only": True}],
    }


@pytest.mark.parametrize(
    ("form", "field", "needle"),
    [
        ({"volume_id": ["vol-abcd1234"], "volume_mode": ["rwx"]}, "volumes.0", "read-write (rw)"),
        ({"volume_id": ["../../etc"]}, "volumes.0", "not a volume id"),
        ({"dataset_ref": ["x"], "dataset_version": ["1e9999"]}, "datasets.0", "at most 9 digits"),
        ({"dataset_ref": ["x"], "dataset_version": ["9" * 12]}, "datasets.0", "at most 9 digits"),
        ({"dataset_ref": ["a\x00b"]}, "datasets.0", "not a dataset name"),
        ({"new_volume_name": ["v"], "new_volume_type": ["tape"]}, "new_volume", "ssd, hdd, shared"),
        ({"dataset_ref": ["x"] * 17}, "mounts", "17 mounts asked; at most 16"),
    ],
)
def test_the_form_refuses_what_it_could_not_have_sent(form, field, needle):
    with pytest.raises(PlanErrors) as e:
        from_form(form)
    assert {x.field for x in e.value.errors} >= {field}
    assert needle in "; ".join(x.message for x in e.value.errors)


def test_a_rest_body_reads_like_the_form():
    c = from_options(
        {
            "datasets": [{"ref": "alice/imagenet", "version": 3}, {"ref": "coco"}],
            "volumes": [{"volume_id": "vol-abcd1234", "read_only": True}],
        }
    )
    assert c.datasets == [DatasetChoice("alice/imagenet", "3"), DatasetChoice("coco", "latest")]
    assert c.volumes == [VolumeChoice("vol-abcd1234", "", True)]
    assert from_options(None).to_json() == {"datasets": [], "volumes": []}


D0, V0 = "user_options.storage.datasets.0", "user_options.storage.volumes.0"
VOL = "vol-abcd1234"


@pytest.mark.parametrize(
    ("storage", "field", "needle"),
    [
        ([], "user_options.storage", "must be an object"),
        ({"datasets": {}}, "user_options.storage.datasets", "must be a list"),
        ({"plans": []}, "user_options.storage", "unknown key 'plans'"),
        ({"datasets": [{"ref": "x", "source": "/"}]}, D0, "unknown key 'source'"),
        ({"datasets": [{"ref": "x", "read_only": False}]}, D0, "always read-only"),
        ({"datasets": [{"ref": 3}]}, D0 + ".ref", "must be a string"),
        ({"datasets": [{"ref": ""}]}, D0 + ".ref", "is required"),
        ({"datasets": [{"ref": "x", "version": True}]}, D0 + ".version", "must be a string"),
        ({"datasets": [{"ref": "x", "version": "../1"}]}, D0, "alias"),
        ({"datasets": [{"ref": "x", "path": "/" + "a" * 2000}]}, D0 + ".path", "longer than"),
        ({"volumes": [{"volume_id": VOL, "read_only": "no"}]}, V0 + ".read_only", "true or false"),
        ({"volumes": [{"volume_id": VOL, "sub_path": "x"}]}, V0, "mounted whole"),
        ({"volumes": [VOL]}, V0, "must be an object"),
        ({"datasets": [{"ref": "x"}] * 9, "volumes": [{"volume_id": VOL}] * 8}, "mounts", "17"),
    ],
)  # fmt: skip
def test_a_rest_body_is_refused_field_by_field(storage, field, needle):
    with pytest.raises(PlanErrors) as e:
        from_options(storage)
    assert [x.field for x in e.value.errors] == [field]
    assert needle in e.value.errors[0].message


def test_remembered_junk_is_left_out_not_an_error():
    assert lenient({"datasets": "all"})[1] is False
    assert lenient({"datasets": [{"ref": "x"}]})[1] is True
