"""The Python client against the real registry: typed results and readable exceptions."""

from __future__ import annotations

import pytest

from fermi_jupyter.client import (
    BadRequest,
    Conflict,
    Dataset,
    FermiError,
    Forbidden,
    NotFound,
    RegistryClient,
    RegistryUnavailable,
    Unauthorized,
    Version,
    VersionFailed,
)

from ..support.ports import free_port
from ..support.trees import independent_digest, make_slow_tree, make_tree


@pytest.fixture
def alice(hub, users):
    with RegistryClient(hub.registry_url, users.tokens["alice"]) as rc:
        yield rc


def test_the_workflow_loop_through_the_client(hub, users, alice):
    vol = alice.create_volume("client-work", capacity="5Gi", type="hdd")
    assert vol.id.startswith("vol-") and vol.type == "hdd" and vol.used_bytes == 0
    src = hub.storage_root / "volumes" / vol.id / "raw"
    make_tree(src, 12, 700, seed=21)
    ds = alice.create_dataset("client-raw", data_type="image", tags=["原始"], visibility="org")
    assert isinstance(ds, Dataset) and ds.tags == ["原始"] and ds.latest is None

    seen: list[str] = []
    v = alice.register(ds.id, vol.id, "raw", message="first")
    assert isinstance(v, Version) and v.number == 1
    v = alice.wait(ds.id, v.number, timeout=60, on_progress=lambda v: seen.append(v.status))
    assert v.status == "ready" and seen[-1] == "ready"
    assert v.digest == independent_digest(src)[0] and v.files == 12
    assert v.progress.fraction == 1.0
    assert [e.path for e in alice.manifest(ds.id, 1)][:2] == [
        "part-000/sample-000000.bin",
        "part-000/sample-000010.bin",
    ]

    job = alice.wait_job(alice.verify(ds.id, "latest").id, timeout=60)
    assert job.state == "done" and job.result["ok"] is True
    job = alice.wait_job(alice.restore(ds.id, 1, vol.id, "copy-of-raw").id, timeout=60)
    assert job.state == "done"
    assert independent_digest(hub.storage_root / "volumes" / vol.id / "copy-of-raw")[0] == v.digest

    v2 = alice.wait(ds.id, alice.register(ds.id, vol.id, "raw", parents=[f"{ds.id}@1"]).number)
    assert v2.parents == [f"{ds.id}@1"]
    alice.set_alias(ds.id, "production", 1)
    assert alice.version(ds.id, "production").number == 1
    assert alice.dataset(ds.id).aliases == {"production": 1}
    assert [x.number for x in alice.versions(ds.id)] == [2, 1]
    assert ds.id in {d.id for d in alice.datasets("client-raw")}
    assert vol.id in {x.id for x in alice.volumes()}
    page = alice.tree(vol.id, "")
    assert {e.name for e in page.items} == {"raw", "copy-of-raw"}
    updated = alice.update_dataset(ds.id, description="数据集说明")
    assert updated.description == "数据集说明"


def test_failures_become_typed_exceptions(hub, users, alice):
    with pytest.raises(NotFound) as e:
        alice.dataset("no-such-dataset")
    assert e.value.status == 404 and "no-such-dataset" in str(e.value)
    with pytest.raises(BadRequest):
        alice.create_dataset("")
    alice.create_dataset("client-dup")
    with pytest.raises(Conflict):
        alice.create_dataset("client-dup")
    with RegistryClient(hub.registry_url, users.tokens["bob"]) as bob:
        org = alice.create_dataset("client-org-only", visibility="org")
        with pytest.raises(Forbidden):
            bob.update_dataset(org.id, description="mine now")
    with RegistryClient(hub.registry_url, "not-a-token") as anon, pytest.raises(Unauthorized):
        anon.datasets()
    with RegistryClient(f"http://127.0.0.1:{free_port()}/api/v1", "x") as down:
        with pytest.raises(RegistryUnavailable) as e:
            down.datasets()
        assert "cannot reach the registry" in str(e.value)


def test_wait_raises_when_a_version_is_cancelled(hub, users, alice):
    vol = alice.create_volume("client-cancel", capacity="1Gi")
    make_slow_tree(hub.storage_root / "volumes" / vol.id / "slow")
    ds = alice.create_dataset("client-cancel")
    v = alice.register(ds.id, vol.id, "slow", mode="reference")
    job = alice.cancel_version(ds.id, v.number)
    assert job.kind == "register" and job.version == v.ref
    assert job.state in ("cancelling", "cancelled")
    with pytest.raises(VersionFailed) as e:
        alice.wait(ds.id, v.number, timeout=60)
    assert e.value.reason == "cancelled"
    assert str(e.value) == "client-cancel@1 cancelled: no reason given"
    with pytest.raises(Conflict) as e:  # a finished version is not cancelled (nor deleted)
        alice.cancel_version(ds.id, v.number)
    assert e.value.reason == "not-running"
    assert alice.version(ds.id, v.number).status == "cancelled"


def test_missing_url_is_a_readable_error(monkeypatch):
    monkeypatch.delenv("FERMI_REGISTRY_URL", raising=False)
    with pytest.raises(FermiError) as e:
        RegistryClient()
    assert "FERMI_REGISTRY_URL" in str(e.value)
