"""Steps the job-fault tests share: a volume with a tree in it, a registration, its job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..support.trees import make_tree


@dataclass
class Source:
    volume_id: str
    dataset_id: str
    path: Path  # the folder on disk
    rel: str  # its path in the volume


def source(
    client: httpx.Client, root: Path, name: str, files: int, size: int = 4096, seed: int = 1
) -> Source:
    """A new volume and dataset, and a tree of ``files`` random files in the volume."""
    r = client.post("/volumes", json={"name": name, "capacity": "10Gi"})
    assert r.status_code == 201, r.text
    vol = r.json()["id"]
    r = client.post("/datasets", json={"name": name})
    assert r.status_code == 201, r.text
    path = root / "volumes" / vol / "data"
    make_tree(path, files, size, seed=seed, dirs=20)
    return Source(vol, r.json()["id"], path, "data")


def register(client: httpx.Client, src: Source) -> tuple[int, int]:
    """Start a registration: (version number, job id)."""
    r = client.post(
        f"/datasets/{src.dataset_id}/versions", json={"volume_id": src.volume_id, "path": src.rel}
    )
    assert r.status_code == 202, r.text
    number = r.json()["number"]
    ref = f"{src.dataset_id}@{number}"
    jobs = client.get("/jobs", params={"limit": 50}).json()["items"]
    job = next(j for j in jobs if j["version"] == ref and j["kind"] == "register")
    return number, job["id"]


def wait_job(client: httpx.Client, job_id: int, timeout: float = 120) -> dict:
    """The job once it has ended; the registry may be restarting meanwhile."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = client.get(f"/jobs/{job_id}").json()
        except httpx.HTTPError:
            body = {}
        if body.get("state") in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} has not ended after {timeout}s: {body}")


def events(job: dict) -> list[str]:
    return [h["event"] for h in job["history"]]


def leftovers(root: Path, dataset_id: str) -> list[str]:
    """Half-built snapshots and temporary files a registration of ``dataset_id`` left."""
    ds = root / "datasets" / dataset_id
    partial = [p.name for p in ds.iterdir() if p.name.endswith(".partial")] if ds.exists() else []
    tmp = root / "tmp"
    temps = [p.name for p in tmp.iterdir() if p.name.startswith(dataset_id)] if tmp.exists() else []
    return partial + temps
