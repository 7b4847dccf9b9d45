"""Spawner figures: pod manifest with 50 mounts; the spawn form with 10,000 visible datasets
(page size, picker search); local spawn to a Lab answering through the proxy, sandbox vs
SimpleLocalProcessSpawner on the same machine."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from .common import Figure

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: x}}]
contexts: [{name: none, context: {cluster: none, user: nobody, namespace: fermi}}]
current-context: none
"""


def manifest_figures() -> list[Figure]:
    fd, path = tempfile.mkstemp()
    os.write(fd, KUBECONFIG.encode())
    os.close(fd)
    os.environ["KUBECONFIG"] = path
    import kubernetes_asyncio.config.kube_config as kc

    kc.KUBE_CONFIG_DEFAULT_LOCATION = path
    from fermi_jupyter.spawner import pod
    from fermi_jupyter.spawner.kube import FermiSpawner
    from fermi_jupyter.spawner.plan import volume_mount

    vol = {"id": "vol-x", "name": "x", "backend": "root", "storage_path": "volumes/vol-x"}
    plan = [
        volume_mount(f"v{i}", vol, f"/w{i}", False, "/home/jovyan", sub_path=f"s{i}")
        for i in range(50)
    ]

    async def timed(n_mounts: int) -> float:
        sp = FermiSpawner(_mock=True)
        volumes, mounts = pod.pod_storage(plan[:n_mounts], "fermi-storage")
        sp.volumes, sp.volume_mounts = volumes, mounts  # 50 is above the form's limit of 16
        samples = []
        for _ in range(30):
            t = time.perf_counter()
            await sp.get_pod_manifest()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples) * 1000

    async def both() -> tuple[float, float]:
        return await timed(50), await timed(0)

    ms50, ms0 = asyncio.run(both())
    return [
        Figure("pod manifest with 50 mounts (ms)", ms50, ms0, "0 mounts", None, "ms"),
        Figure("pod manifest with 50 mounts vs 10 ms", ms50, 10.0, "10 ms budget", 1.0, "ms"),
    ]


def form_figures() -> list[Figure]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sqlalchemy import create_engine, insert

    from fermi_jupyter.registry import summary
    from fermi_jupyter.registry.orm import Dataset, Version
    from tests.support.hub import PASSWORD, Hub

    home = Path(tempfile.mkdtemp(prefix="fermi-bench-hub-"))
    hub = Hub(home=home, db_url=f"sqlite:///{home}/registry.sqlite").start()
    try:
        token = hub.create_user("alice")
        engine = create_engine(hub.db_url)
        rows = [
            {
                "id": f"ds-b{i:06d}",
                "name": f"dataset-{i:05d}",
                "owner": f"u{i % 50}",
                "visibility": "org",
                "data_type": "mixed",
                "description": "",
                "tags": [],
                "next_version": 2,
            }
            for i in range(10_000)
        ]
        with engine.begin() as conn:
            conn.execute(insert(Dataset), rows)
            conn.execute(
                insert(Version),
                [
                    {
                        "dataset_id": r["id"],
                        "number": 1,
                        "status": "ready",
                        "mode": "snapshot",
                        "source_path": "",
                        "message": "",
                        "created_by": "u",
                        "files_done": 0,
                        "bytes_done": 0,
                        "warnings": [],
                        "parents": [],
                    }
                    for r in rows
                ],
            )
            summary.refresh_all(conn)  # what the registry keeps on each dataset's row
        s = httpx.Client(base_url=hub.url, timeout=30)
        s.get("/hub/login")
        s.post(
            "/hub/login",
            data={"username": "alice", "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")},
        )
        page = s.get("/hub/spawn").text
        home_page = s.get("/hub/home").text
        # the picker through the hub (a registry token made for the user, then the registry)
        # against the same search asked of the registry directly, alternately
        samples, direct = [], []
        registry = hub.client(token)
        for i in range(60):
            q = f"dataset-0{i % 10}{i % 7}"
            t = time.perf_counter()
            r = s.get("/hub/fermi/datasets", params={"q": q})
            samples.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["items"]
            t = time.perf_counter()
            assert registry.get("/datasets", params={"q": q, "limit": 20}).status_code == 200
            direct.append(time.perf_counter() - t)
        p95 = statistics.quantiles(samples, n=20)[18] * 1000
        direct95 = statistics.quantiles(direct, n=20)[18] * 1000
        kb = len(page.encode()) / 1024
        return [
            Figure(
                "spawn form page, 10k datasets visible (KB)", kb, 200, "200 KB budget", 1.0, "KB"
            ),
            Figure(
                "  (for scale: the hub's home page, KB)",
                len(home_page.encode()) / 1024,
                kb,
                "form",
                None,
                "KB",
            ),
            Figure(
                "dataset picker search p95 (ms)",
                p95,
                direct95,
                "the registry asked directly",
                2.0,
                "ms",
            ),
            Figure("dataset picker search p95 vs 100 ms", p95, 100, "100 ms budget", 1.0, "ms"),
        ]
    finally:
        hub.stop()
        hub.cleanup()


# the reference: JupyterHub's own local spawner, no sandbox, no storage (benchmarks only)
SIMPLE = """
import sys
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.SimpleLocalProcessSpawner.home_dir_template = "{home}/simple-homes/{{username}}"
c.SimpleLocalProcessSpawner.args = ["--allow-root"]  # the hub runs as root here
c.SimpleLocalProcessSpawner.default_url = "/lab"
"""


def _spawn_once(hub, token: str) -> float:
    """Seconds from the start request to Lab answering through the proxy; then stops."""
    t = time.perf_counter()
    with hub.admin() as api:  # returns once the spawn is accepted (or done)
        api.post("/users/alice/server", json={}, timeout=300)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            r = httpx.get(
                f"{hub.url}/user/alice/lab", headers={"Authorization": f"token {token}"}, timeout=30
            )
            if r.status_code == 200 and "JupyterLab" in r.text:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - t
    with hub.admin() as api:
        api.delete("/users/alice/server", timeout=300)
        while api.get("/users/alice", timeout=60).json()["servers"]:
            time.sleep(0.2)
    return seconds


def spawn_seconds(runs: int = 3) -> tuple[float, float]:
    """Medians for the sandbox and for SimpleLocalProcessSpawner, spawned alternately on two
    hubs running side by side, so a busy machine slows both alike."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.hub import Hub

    hubs = {}
    try:
        for kind in ("fermi", "simple"):
            home = Path(tempfile.mkdtemp(prefix=f"fermi-bench-{kind}-"))
            extra = SIMPLE.format(home=home) if kind == "simple" else ""
            hub = Hub(home=home, db_url=f"sqlite:///{home}/registry.sqlite", extra_config=extra)
            hubs[kind] = hub
            hub.start(timeout=300)
        tokens = {kind: hub.create_user("alice") for kind, hub in hubs.items()}
        samples: dict[str, list[float]] = {"fermi": [], "simple": []}
        for _ in range(runs):
            for kind, hub in hubs.items():
                samples[kind].append(_spawn_once(hub, tokens[kind]))
        return statistics.median(samples["fermi"]), statistics.median(samples["simple"])
    finally:
        for hub in hubs.values():
            hub.stop()
            hub.cleanup()


def run(size: str) -> list[Figure]:
    figures = manifest_figures() + form_figures()
    sandbox, simple = spawn_seconds()
    figures.append(
        Figure(
            "local spawn to Lab through the proxy",
            sandbox,
            simple,
            "SimpleLocalProcessSpawner",
            1.15,
        )
    )
    return figures
