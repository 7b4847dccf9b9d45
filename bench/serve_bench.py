"""Serving under load: ``python -m bench serve``.

A real JupyterHub with the registry as its managed service (the shipped local config: two
serving processes on two cores), on SQLite and on PostgreSQL. 2,000 datasets and ~5,000
versions for 20 users in 3 teams; `wrk` (C, epoll) plays 200 clients listing and searching
datasets, opening one, listing its versions and browsing volume trees with the users' hub
tokens, straight to the registry's port. The reference in the same run is JupyterHub's own
``GET /hub/api/users`` under the same clients, alternating with the registry, medians of 3.
The load generator's CPU is reported beside the figures: it shares the two cores.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fermi_jupyter.registry import db as dbmod  # noqa: E402
from fermi_jupyter.registry import summary  # noqa: E402
from fermi_jupyter.registry.app import JOB_PROCESS_NAME  # noqa: E402
from fermi_jupyter.registry.orm import Alias, Dataset, DatasetTag, Version  # noqa: E402
from tests.support.hub import Hub  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.trees import make_tree  # noqa: E402

USERS = [f"user{i:02d}" for i in range(20)]
TEAMS = ["vision", "audio", "nlp"]
WORDS = ["imagenet", "coco", "speech", "语音", "lidar", "clean", "raw", "wiki", "kinetics"]
N_DATASETS = 2000
# the registry answers on its own port under the path the hub's proxy routes to it
REGISTRY_PREFIX = "/services/fermi-registry/api/v1"

LUA = r"""
local paths = {PATHS}
local tokens = {TOKENS}
local prefix = "{PREFIX}"
math.randomseed(os.time())
request = function()
  local p = paths[math.random(#paths)]
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", prefix .. p, {["Authorization"] = "token " .. t})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "us": %d, "non2xx": %d, "socket_errors": %d, '
    .. '"p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Run:
    rps: float
    p50: float  # ms
    p95: float
    p99: float
    errors: int
    server_cpu: float  # cores busy in the measured processes
    wrk_cpu: float  # cores the load generator used
    db_cpu: float = 0.0  # cores busy in the database server's processes (PostgreSQL)
    clients_cpu: float = 0.0  # cores the registering clients used (the loaded runs)


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "}"


def wrk(
    url_base: str,
    prefix: str,
    paths: list[str],
    tokens: list[str],
    clients: int,
    seconds: float,
    pids: list[int],
    db_pids: Callable[[], list[int]] = list,
) -> Run:
    """``db_pids``: the database server's processes now (backends come and go)."""
    script = Path(tempfile.mkstemp(suffix=".lua", prefix="fermi-wrk-")[1])
    script.write_text(
        LUA.replace("{PATHS}", _lua_list(paths))
        .replace("{TOKENS}", _lua_list(tokens))
        .replace("{PREFIX}", prefix)
    )
    cpu0, db0 = _cpu(pids), _cpu(db_pids())
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [
            "wrk",
            f"-t{min(2, clients)}",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url_base + "/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = proc.stdout.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    server = (_cpu(pids) - cpu0) / wall
    db = (_cpu(db_pids()) - db0) / wall
    script.unlink()
    line = next((ln for ln in out.splitlines() if ln.startswith("{")), None)
    if line is None:
        err = proc.stderr.read()  # type: ignore[union-attr]
        raise RuntimeError(f"wrk {clients} clients {url_base} failed: {out}\n{err}")
    r = json.loads(line)
    return Run(
        rps=r["requests"] / (r["us"] / 1e6),
        p50=r["p50"] / 1000,
        p95=r["p95"] / 1000,
        p99=r["p99"] / 1000,
        errors=r["non2xx"] + r["socket_errors"],
        server_cpu=server,
        wrk_cpu=(usage.ru_utime + usage.ru_stime) / wall,
        db_cpu=db,
    )


def _cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    out = [int(k) for k in kids]
    for k in list(out):
        out += _children(k)
    return out


def populate(hub: Hub) -> dict:
    """Users with tokens, their volumes with small trees, 2,000 datasets with versions."""
    tokens = {}
    for i, name in enumerate(USERS):
        tokens[name] = hub.create_user(name, groups=(TEAMS[i % 3],), admin=False)
    tokens["root"] = hub.create_user("root", admin=True)
    volumes = {}
    for name in USERS:
        with hub.client(tokens[name]) as c:
            vol = c.post("/volumes", json={"name": "work", "capacity": "10Gi"}).json()
        volumes[name] = vol["id"]
        make_tree(hub.storage_root / "volumes" / vol["id"] / "data", 200, 512, dirs=20)
        make_tree(hub.storage_root / "volumes" / vol["id"] / "reg", 30, 2048, dirs=3)
    rng = random.Random(1)
    engine = dbmod.make_engine(hub.db_url)
    rows, versions, tags, aliases = [], [], [], []
    names = []
    for i in range(N_DATASETS):
        owner = USERS[i % 20]
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:05d}"
        vis = rng.choices(["private", "team", "org", "public"], [4, 3, 2, 1])[0]
        ds_id = f"ds-serve{i:07d}"
        nv = rng.choice([1, 2, 3, 4])
        rows.append(
            {
                "id": ds_id,
                "name": name,
                "owner": owner,
                "team": TEAMS[i % 3],
                "visibility": vis,
                "data_type": "image",
                "description": f"{name} data",
                "tags": [],
                "next_version": nv + 1,
            }
        )
        names.append((ds_id, owner, vis))
        tags.append({"dataset_id": ds_id, "tag": rng.choice(["原始", "清洗", "生产"])})
        for n in range(1, nv + 1):
            versions.append(
                {
                    "dataset_id": ds_id,
                    "number": n,
                    "status": "ready",
                    "mode": "snapshot",
                    "source_volume_id": volumes[owner],
                    "source_path": "data",
                    "message": f"v{n}",
                    "created_by": owner,
                    "files_done": 0,
                    "bytes_done": 0,
                    "files": 200,
                    "bytes": 102400,
                    "digest": "blake3:" + "0" * 64,
                    "warnings": [],
                    "parents": [],
                }
            )
        aliases.append(
            {"dataset_id": ds_id, "name": "production", "number": 1, "updated_by": owner}
        )
    with engine.begin() as conn:
        conn.execute(insert(Dataset), rows)
        conn.execute(insert(Version), versions)
        conn.execute(insert(DatasetTag), tags)
        conn.execute(insert(Alias), aliases)
        summary.refresh_all(conn)  # what the registry keeps on each dataset's row
    dbmod.analyze(engine)
    engine.dispose()
    visible = [d for d, _o, vis in names if vis in ("org", "public")]
    return {"tokens": tokens, "volumes": volumes, "visible": visible, "n_versions": len(versions)}


def read_paths(world: dict) -> list[str]:
    rng = random.Random(2)
    paths = []
    for _ in range(60):
        paths.append("/datasets?limit=50")
        paths.append(f"/datasets?limit=50&q={quote(rng.choice(WORDS))}")
        ds = rng.choice(world["visible"])
        paths += [f"/datasets/{ds}", f"/datasets/{ds}/versions", f"/datasets/{ds}/versions/latest"]
    return paths


def tree_paths(world: dict, user: str) -> list[str]:
    vol = world["volumes"][user]
    return [f"/volumes/{vol}/tree?path=data/part-{i:03d}" for i in range(20)] + [
        f"/volumes/{vol}/tree?path=data",
        "/volumes",
    ]


class Registrars:
    """``n`` clients each registering a new version, waiting for it, and again, until stopped.

    Plain ``http.client`` with keep-alive: the clients run in this process, on the same two
    cores, and httpx cost them 2.7 ms of CPU a registration (its four requests) — load of the
    bench's own that the readers would pay for. Their CPU is reported with the load
    generator's (:attr:`cpu`)."""

    def __init__(self, hub: Hub, world: dict, n: int):
        self.hub, self.world, self.n = hub, world, n
        self.stop = threading.Event()
        self.done = 0
        self._cpu = [0.0] * n  # each client thread's own CPU time, as it goes
        self.threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(n)]

    def cpu(self) -> float:
        """Seconds of CPU the client threads have used so far."""
        return sum(self._cpu)

    def _loop(self, i: int) -> None:
        user = USERS[i]
        # straight to the registry's port, as the readers' wrk is: the hub's proxy (node) in
        # between would be load of its own on the same two cores, that readers don't cross
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.registry_port, timeout=30)
        auth = {"Authorization": f"token {self.world['tokens'][user]}"}

        def call(method: str, path: str, body: dict | None = None) -> dict:
            headers = dict(auth)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, REGISTRY_PREFIX + path, body=data, headers=headers)
            r = conn.getresponse()
            payload = r.read()
            if r.status >= 400:
                raise RuntimeError(f"{method} {path}: {r.status} {payload[:300]!r}")
            self._cpu[i] = time.thread_time()
            return json.loads(payload)

        try:
            ds = call("POST", "/datasets", {"name": f"registering-{i}-{time.time_ns()}"})["id"]
            body = {"volume_id": self.world["volumes"][user], "path": "reg"}
            while not self.stop.is_set():
                n = call("POST", f"/datasets/{ds}/versions", body)["number"]
                while not self.stop.is_set():
                    status = call("GET", f"/datasets/{ds}/versions/{n}")["status"]
                    if status not in ("pending", "processing"):
                        break
                    time.sleep(0.2)
                self.done += 1
        finally:
            conn.close()

    def __enter__(self) -> Registrars:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def median_run(runs: list[Run]) -> Run:
    def med(attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs)

    return Run(
        *(med(a) for a in ("rps", "p50", "p95", "p99")),
        sum(r.errors for r in runs),
        med("server_cpu"),
        med("wrk_cpu"),
        med("db_cpu"),
        med("clients_cpu"),
    )


def measure(
    backend: str,
    db_url: str,
    home: Path,
    seconds: float,
    rounds: int,
    db_server: int | None = None,
) -> dict:
    """``db_server``: the database server's main process (its children are the backends the
    registry talks to), so its CPU is reported beside the registry's."""
    # one registry (the tests' second one, on the same database, would poll it meanwhile)
    hub = Hub(home=home, db_url=db_url, second_registry=False)
    hub.start()
    try:
        world = populate(hub)
        users = USERS
        tokens = [world["tokens"][u] for u in users]
        reg_base = f"http://127.0.0.1:{hub.registry_port}"
        prefix = REGISTRY_PREFIX
        hub_base = f"http://127.0.0.1:{hub.api_port}"
        # every process of the registry: serving ones, the job process and its workers
        reg_pids = _children(_ppid(hub.registry_pid()))
        hub_pids = [hub.proc.pid]  # type: ignore[union-attr]  (the hub process itself)
        read_only = read_paths(world)
        trees = tree_paths(world, users[0])

        def db() -> list[int]:
            return [db_server, *_children(db_server)] if db_server else []

        mix_tokens = tokens
        # warm up: caches, pools, the hub's token cache
        wrk(reg_base, prefix, read_only, mix_tokens, 50, 3, reg_pids, db)
        wrk(reg_base, prefix, trees, [world["tokens"][users[0]]], 20, 2, reg_pids, db)
        wrk(hub_base, "/hub/api", ["/users"], [world["tokens"]["root"]], 50, 3, hub_pids)
        reg_runs, hub_runs, tree_runs, alone, loaded = [], [], [], [], []
        for _ in range(rounds):
            reg_runs.append(
                wrk(reg_base, prefix, read_only, mix_tokens, 200, seconds, reg_pids, db)
            )
            hub_runs.append(
                wrk(
                    hub_base,
                    "/hub/api",
                    ["/users"],
                    [world["tokens"]["root"]],
                    200,
                    seconds,
                    hub_pids,
                )
            )
            tree_runs.append(
                wrk(
                    reg_base, prefix, trees, [world["tokens"][users[0]]], 200, seconds, reg_pids, db
                )
            )
        for _ in range(rounds):
            alone.append(wrk(reg_base, prefix, read_only, mix_tokens, 50, seconds, reg_pids, db))
            with Registrars(hub, world, 10) as regs:
                time.sleep(1)
                cpu0, t0 = regs.cpu(), time.monotonic()
                run = wrk(reg_base, prefix, read_only, mix_tokens, 50, seconds, reg_pids, db)
                run.clients_cpu = (regs.cpu() - cpu0) / (time.monotonic() - t0)
                loaded.append(run)
            registered = regs.done
        return {
            "backend": backend,
            "reads": median_run(reg_runs),
            "trees": median_run(tree_runs),
            "hub": median_run(hub_runs),
            "alone": median_run(alone),
            "loaded": median_run(loaded),
            "registered": registered,
            "processes": sum(  # serving ones: not the job process nor its workers
                Path(f"/proc/{p}/comm").read_text().strip() != JOB_PROCESS_NAME
                and _ppid(p) == _ppid(hub.registry_pid())
                for p in reg_pids
            ),
            "datasets": N_DATASETS,
            "versions": world["n_versions"],
        }
    finally:
        hub.stop()
        hub.cleanup()


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def run(seconds: float = 10, rounds: int = 3) -> list[dict]:
    if not shutil.which("wrk"):
        raise SystemExit("bench serve: 'wrk' is missing; run scripts/setup.sh (it installs it)")
    results = []
    pg = PostgresServer().start()
    homes = []
    try:
        for backend in ("sqlite", "postgresql"):
            home = Path(tempfile.mkdtemp(prefix=f"fermi-serve-{backend}-"))
            homes.append(home)
            url = (
                f"sqlite:///{home / 'registry.sqlite'}"
                if backend == "sqlite"
                else pg.create_database("fermi_serve")
            )
            server = None if backend == "sqlite" else pg.postmaster_pid()
            results.append(measure(backend, url, home, seconds, rounds, server))
    finally:
        pg.stop()
        for h in homes:
            shutil.rmtree(h, ignore_errors=True)
    return results


def lines(results: list[dict]) -> list[str]:
    """The table, one row per figure; targets from issue 13."""
    out = [
        "| database | mix | clients | reads / s | p50 | p95 | p99 | errors | registry CPU "
        "| database CPU | CPU per read | clients' CPU | ratio | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    by = {r["backend"]: r for r in results}

    def row(r: dict, label: str, run: Run, clients: int, ratio: str, target: str) -> str:
        db = f"{run.db_cpu * 100:.0f} %" if r["backend"] != "sqlite" else "in the registry"
        if label.startswith("reference"):
            db = "—"  # (the hub has its own SQLite database)
        # wrk's, and the registering clients' beside it in the loaded runs
        load = f"{run.wrk_cpu * 100:.0f} %" + (
            f" + {run.clients_cpu * 100:.0f} %" if run.clients_cpu else ""
        )
        return (
            f"| {r['backend']} | {label} | {clients} | {run.rps:,.0f} | {run.p50:.0f} ms "
            f"| {run.p95:.0f} ms | {run.p99:.0f} ms | {run.errors} "
            f"| {run.server_cpu * 100:.0f} % "
            f"| {db} "
            f"| {1000 * (run.server_cpu + run.db_cpu) / run.rps:.1f} ms "
            f"| {load} | {ratio} | {target} |"
        )

    for r in results:
        reads, hub = r["reads"], r["hub"]
        ok = "ok" if reads.rps >= 1000 and reads.p99 < 1000 else "MISSED"
        out.append(
            row(
                r,
                "datasets: list, search, open, versions",
                reads,
                200,
                f"{reads.rps / hub.rps:.1f}x hub",
                f"≥ 1,000/s, p99 < 1 s {ok}",
            )
        )
        out.append(row(r, "volume trees (one user's)", r["trees"], 200, "", ""))
        out.append(row(r, "reference: JupyterHub GET /hub/api/users", hub, 200, "1.0x", ""))
        ratio = r["loaded"].p95 / r["alone"].p95 if r["alone"].p95 else float("inf")
        ok = "ok" if ratio <= 1.5 else "MISSED"
        out.append(row(r, "readers alone", r["alone"], 50, "1.0x", ""))
        out.append(
            row(
                r,
                f"readers + 10 registering ({r['registered']} versions registered)",
                r["loaded"],
                50,
                f"{ratio:.2f}x p95",
                f"≤ 1.5x {ok}",
            )
        )
    if "sqlite" in by and "postgresql" in by:
        a, b = by["sqlite"]["reads"].rps, by["postgresql"]["reads"].rps
        ratio = max(a, b) / min(a, b)
        ok = "ok" if ratio <= 1.3 else "MISSED"
        out.append(
            f"\nSQLite vs PostgreSQL reads/s: {a:,.0f} vs {b:,.0f} = {ratio:.3f}x "
            f"(target ≤ 1.3x) {ok}"
        )
    return out


DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- figures:serve:begin -->", "<!-- figures:serve:end -->"


def write_report(results: list[dict], machine: str, note: str = "") -> None:
    import datetime as dt

    r0 = results[0]
    block = "\n".join(
        [
            BEGIN,
            f"_Measured {dt.date.today().isoformat()} with `python -m bench serve` on {machine}; "
            f"{r0['datasets']:,} datasets, {r0['versions']:,} versions, 20 users in 3 teams; the "
            f"registry with {r0['processes']} serving processes and its job process; medians of 3 "
            f"alternating runs.{note}_",
            "",
            *lines(results),
            END,
        ]
    )
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Serving figures\n\n" + block + "\n"
    DOC.write_text(text)
