"""The store's options reach the storage engine through the registry's configuration:
``RegistryApp.storage_object_min`` decides which registered files become objects of the
content-addressed store, and ``storage_flush_interval`` how often a snapshot flushes."""

from __future__ import annotations

import os

import pytest

from fermi_jupyter.registry.storage import flushing, objects

from ..support.registry import InProcessRegistry
from ..support.trees import make_tree, wait_version


@pytest.mark.parametrize(
    "traits,stored",
    [
        ({}, 1),  # the default (64 KiB): only the 70 KiB file is an object
        ({"storage_object_min": 0, "storage_flush_interval": 0.5}, 6),  # every file
    ],
    ids=["default", "object_min=0"],
)
def test_storage_object_min_decides_which_registered_files_are_objects(
    tmp_path, monkeypatch, traits, stored
):
    # the registry sets these module values from its configuration: restored after the test
    monkeypatch.setattr(objects, "OBJECT_MIN", objects.OBJECT_MIN)
    monkeypatch.setattr(flushing, "EVERY", flushing.EVERY)
    reg = InProcessRegistry(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite'}", **traits).start()
    try:
        with reg["alice"] as c:
            vol = c.post("/volumes", json={"name": "options", "capacity": "1Gi"}).json()
            ds = c.post("/datasets", json={"name": "options"}).json()
            src = reg.storage_root / "volumes" / vol["id"] / "data"
            make_tree(src, 5, 1000)
            (src / "big.bin").write_bytes(os.urandom(70 << 10))
            r = c.post(
                f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"}
            )
            assert r.status_code == 202, r.text
            v = wait_version(c, ds["id"], r.json()["number"])
        assert v["status"] == "ready" and v["files"] == 6, v
        found = [p for p in (reg.storage_root / "objects").rglob("*") if p.is_file()]
        assert len(found) == stored, found
        assert traits.get("storage_flush_interval", 0.2) == flushing.EVERY
    finally:
        reg.stop()
