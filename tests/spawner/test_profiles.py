"""Profiles: the shipped ones load; malformed ones name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fermi_jupyter.spawner.profiles import ProfileError, load_profiles, visible_to

SHIPPED = Path(__file__).resolve().parents[2] / "kubespawner_profiles"


def test_shipped_profiles():
    profiles = load_profiles(SHIPPED)
    by_slug = {p["slug"]: p for p in profiles}
    gpu = by_slug["pytorch-a100"]["kubespawner_override"]
    assert gpu["cpu_limit"] == 8 and gpu["mem_limit"] == "32G"
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert by_slug["cpu-small"]["default"] is True
    assert by_slug["vision-4gpu"]["fermi"]["groups"] == ["vision"]


def test_group_limited_profiles_are_hidden_from_others():
    profiles = load_profiles(SHIPPED)
    assert "vision-4gpu" in [p["slug"] for p in visible_to(profiles, {"vision"})]
    assert "vision-4gpu" not in [p["slug"] for p in visible_to(profiles, {"audio"})]
    assert "vision-4gpu" in [p["slug"] for p in visible_to(profiles, set(), admin=True)]


BASE = "slug: p\ndisplay_name: P\nimage: img\n"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("display_name: P\nimage: img\n", "slug"),
        ("slug: P Q\ndisplay_name: P\nimage: img\n", "slug"),
        ("slug: p\ndisplay_name: P\n", "image"),
        (BASE + "cpu: {limit: 0}\n", "cpu.limit"),
        (BASE + "cpu: {limit: -2}\n", "cpu.limit"),
        (BASE + "cpu: {limit: 100000}\n", "cpu.limit"),
        (BASE + "cpu: {guarantee: 4, limit: 2}\n", "cpu.guarantee"),
        (BASE + "memory: {limit: lots}\n", "memory.limit"),
        (BASE + "memory: {limit: 0G}\n", "memory.limit"),
        (BASE + "memory: {limit: 9Ti}\n", "memory.limit"),
        (BASE + "gpu: {count: 0}\n", "gpu.count"),
        (BASE + "gpu: {count: 1.5}\n", "gpu.count"),
        (BASE + "gpu: {count: 64}\n", "gpu.count"),
        (BASE + "groups: vision\n", "groups"),
        (BASE + "node_selector: [a]\n", "node_selector"),
        (BASE + "mounts: [a]\n", "mounts"),
        (BASE + "mounts: {datasets: [{mount_path: /d}]}\n", "mounts.datasets.0.ref"),
        (
            BASE + "mounts: {datasets: [{ref: x, mount_path: /etc}]}\n",
            "mounts.datasets.0.mount_path",
        ),
        (BASE + "mounts: {volumes: [{mount_path: rel}]}\n", "mounts.volumes.0.mount_path"),
        ("slug: [unclosed\n", "(file)"),
        ("- just a list\n", "(file)"),
    ],
)
def test_malformed_profiles_name_file_and_field(tmp_path, text, field):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ProfileError) as e:
        load_profiles(tmp_path)
    assert str(e.value).startswith(f"bad.yaml: {field}:")


def test_duplicate_slugs(tmp_path):
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text(BASE)
    with pytest.raises(ProfileError, match="more than one file"):
        load_profiles(tmp_path)


def test_default_mounts_are_normalised(tmp_path):
    (tmp_path / "p.yaml").write_text(
        BASE + "mounts: {datasets: [{ref: coco, mount_path: /datasets/coco/}], "
        "volumes: [{mount_path: /workspace}]}\n"
    )
    mounts = load_profiles(tmp_path)[0]["fermi"]["mounts"]
    assert mounts["datasets"] == [
        {"ref": "coco", "version": "latest", "mount_path": "/datasets/coco"}
    ]
    assert mounts["volumes"] == [{"mount_path": "/workspace"}]
