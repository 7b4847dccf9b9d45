"""A user's server as the CLI and magics see it: FERMI_MOUNTS over real folders of the storage
root, FERMI_REGISTRY_URL through the hub's proxy, and alice's hub token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fermi_jupyter.domain.mounts import Mount, MountKind, encode

from ..support.trees import make_tree, wait_version


@dataclass
class Server:
    env: dict[str, str]
    workspace: Path  # the volume, as mounted
    dataset_mount: Path  # a dataset version, as mounted read-only
    dataset: dict
    volume: dict


@pytest.fixture(scope="module")
def server(hub, users) -> Server:
    with users["alice"] as c:
        r = c.post("/volumes", json={"name": "cli-work", "capacity": "2Gi"})
        vol = (
            r.json()
            if r.status_code == 201
            else next(v for v in c.get("/volumes").json()["items"] if v["name"] == "cli-work")
        )
        workspace = hub.storage_root / "volumes" / vol["id"]
        make_tree(workspace / "raw", 8, 500, seed=31)
        r = c.post("/datasets", json={"name": "cli-source", "visibility": "org"})
        if r.status_code == 201:  # first module on this hub: make version 1
            ds = r.json()
            c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "raw"})
        else:  # shared by the cli, magics and server tests
            ds = c.get("/datasets/cli-source").json()
        assert wait_version(c, ds["id"], 1)["status"] == "ready"
    mounts = [
        Mount(
            kind=MountKind.dataset,
            dataset_id=ds["id"],
            dataset_name=ds["name"],
            version=1,
            mount_path=str(hub.storage_root / "datasets" / ds["id"] / "1"),
            read_only=True,
        ),
        Mount(
            kind=MountKind.volume,
            volume_id=vol["id"],
            volume_name=vol["name"],
            mount_path=str(workspace),
            read_only=False,
        ),
    ]
    env = {
        "FERMI_MOUNTS": encode(mounts),
        "FERMI_REGISTRY_URL": hub.registry_url,
        "JUPYTERHUB_API_TOKEN": users.tokens["alice"],
        "JUPYTERHUB_USER": "alice",
    }
    return Server(env, workspace, hub.storage_root / "datasets" / ds["id"] / "1", ds, vol)
