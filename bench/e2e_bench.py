"""Registering many small files end to end, as a user does: a real JupyterHub with the registry
as its service (SQLite), ``POST …/versions`` through the proxy, until the version is ``ready``.

Reports the time and the per-file cost at two sizes (it must stay flat), the registry
process's peak memory, the longest silence between progress events (from the event stream),
and how long a cancel of the biggest registration takes. For scale, ``b3sum -P2`` and
``cp -a`` + ``sync`` on the same tree, and ``cp``'s own per-file cost at both sizes (full size
only).

Each tree is read once (``b3sum -P2``, untimed) before it is registered: the figures are for a
warm page cache, like every other figure here. The two sizes have different content (seeds),
so the bigger registration stores every file instead of finding a tenth of them stored.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from pathlib import Path

import httpx

from . import freshfs
from .common import REPO, WORK, Figure, rmtree_any, sh
from .storage_bench import B3SUM_P2
from .trees import ensure, small_distinct

SIZES = {"quick": (5_000, 20_000), "full": (100_000, 1_000_000)}
BUDGET_S, BUDGET_MB = 200.0, 100.0


def _rss_mb(pid: int) -> tuple[float, float]:
    """(peak, current) resident memory of a process, MB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, kb = line.split(":")
                values[key] = int(kb.split()[0]) / 1024
    return values["VmHWM"], values["VmRSS"]


class Progress:
    """Listens to the registry's event stream; notes when each progress event came."""

    def __init__(self, url: str, token: str):
        self.times: list[float] = []
        self.dataset: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, token), daemon=True)
        self._thread.start()

    def _run(self, url: str, token: str) -> None:
        headers = {"Authorization": f"token {token}"}
        try:
            with httpx.stream("GET", f"{url}/events", headers=headers, timeout=None) as r:
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        if event.get("dataset_id") == self.dataset and event.get("progress"):
                            self.times.append(time.monotonic())
        except httpx.HTTPError:
            if not self._stop.is_set():  # the stream ends when the registry stops: expected
                raise

    def longest_gap(self, start: float, end: float) -> tuple[float, float]:
        """The longest silence between ``start`` (the request) and ``end`` (ready), and when
        it began (seconds after ``start``)."""
        marks = [start, *[t for t in self.times if start <= t <= end], end]
        gap, at = max((b - a, a - start) for a, b in itertools.pairwise(marks))
        return gap, at

    def stop(self) -> None:
        self._stop.set()


def _wait(c: httpx.Client, ds: str, n: int, until: tuple[str, ...], poll: float) -> dict:
    while True:
        r = c.get(f"/datasets/{ds}/versions/{n}")
        v = r.json()
        if "status" not in v:
            raise RuntimeError(f"GET version {n} of {ds}: {r.status_code} {v}")
        if v["status"] in until:
            return v
        time.sleep(poll)


def _for_scale(
    base: Path, vol_dir: Path, small: int, large: int, per_file: dict[int, float]
) -> list[Figure]:
    """``b3sum -P2`` and ``cp -a`` + ``sync`` on the big tree, and ``cp``'s per-file cost at
    both sizes: how flat the filesystem itself is. The copies are deleted only at the end
    (creating files right after many were deleted is several times slower here)."""
    rmtree_any(base / "cp")
    (base / "cp").mkdir(parents=True)
    cp_us = {}
    for n in (small, large):
        t = time.perf_counter()
        sh(f"cp -a {vol_dir / f't{n}'} {base / 'cp' / str(n)} && sync")
        cp_us[n] = 1e6 * (time.perf_counter() - t) / n
    t = time.perf_counter()
    sh(B3SUM_P2.format(src=vol_dir / f"t{large}"))
    b3 = time.perf_counter() - t
    ours = per_file[large] * large / 1e6
    cp = cp_us[large] * large / 1e6
    return [
        Figure(f"for scale: {large:,} files end to end", ours, b3, "b3sum -P2", None),
        Figure(f"for scale: {large:,} files end to end", ours, cp, "cp -a + sync", None),
        Figure(
            f"for scale: cp -a + sync, µs a file at {large:,} / at {small:,}",
            cp_us[large],
            cp_us[small],
            f"µs a file at {small:,}",
            None,
            "µs",
        ),
    ]


def run(size: str) -> list[Figure]:
    small, large = SIZES[size]
    base = WORK / size / "e2e"
    # the small tree's own seed: the large one's first files would otherwise be the same
    trees = {
        small: ensure(base / f"tree-{small}-seed7", small_distinct(small, seed=7)),
        large: ensure(base / f"tree-{large}", small_distinct(large)),
    }
    # the cancelled registration's own content: the store holds none of it, so it is all work
    # (the same files again would only be linked, and could be ready before the cancel)
    cancel_n = min(large, 100_000)  # enough to be well under way after 3 s
    trees[-cancel_n] = ensure(base / f"tree-{cancel_n}-other", small_distinct(cancel_n, seed=6))
    # the trees, the store's copy and cp's copy (see freshfs: a new filesystem for each run)
    with freshfs.place(base, "run", {f"t{n}": tree for n, tree in trees.items()}, 3) as root:
        return _measure(size, root, small, large, cancel_n, list(trees))


def _measure(
    size: str, root: Path, small: int, large: int, cancel_n: int, ns: list[int]
) -> list[Figure]:
    from tests.support.hub import Hub  # the test suite's real-hub helper (a dev checkout)

    home = root / "hub"
    rmtree_any(home)
    hub = Hub(home=home, db_url=f"sqlite:///{home / 'registry.sqlite'}", second_registry=False)
    figures: list[Figure] = []
    try:
        hub.start()
        token = hub.create_user("bench")
        pid = hub.registry_pid()
        start_rss = _rss_mb(pid)[1]
        events = Progress(hub.registry_url, token)
        per_file = {}
        with hub.client(token) as c:
            vol = c.post("/volumes", json={"name": "bench", "capacity": "1Ti"}).json()
            vol_dir = hub.storage_root / "volumes" / vol["id"]
            vol_dir.mkdir(parents=True, exist_ok=True)
            for n in ns:  # (t-N: the cancelled one)
                (root / f"t{n}").rename(vol_dir / f"t{n}")  # lent to the volume
            try:
                for n in (small, large):
                    sh(B3SUM_P2.format(src=vol_dir / f"t{n}"))  # warm the page cache (untimed)
                    ds = c.post("/datasets", json={"name": f"bench-{n}"}).json()["id"]
                    events.dataset = ds
                    t0 = time.monotonic()
                    r = c.post(
                        f"/datasets/{ds}/versions", json={"volume_id": vol["id"], "path": f"t{n}"}
                    )
                    r.raise_for_status()
                    v = _wait(c, ds, r.json()["number"], ("ready", "failed"), 0.2)
                    seconds = time.monotonic() - t0
                    assert v["status"] == "ready" and v["files"] == n, v
                    per_file[n] = 1e6 * seconds / n
                    print(
                        f"  {n:,} files: {seconds:.1f} s, {per_file[n]:.1f} µs a file", flush=True
                    )
                    if n == large:
                        gap, at = events.longest_gap(t0, t0 + seconds)
                        print(f"  longest silence {gap:.2f} s, {at:.1f} s after the request")
                        figures += [
                            Figure(
                                f"{n:,} files end to end: time",
                                seconds,
                                BUDGET_S,
                                "200 s budget",
                                1.0,
                            ),
                            Figure(
                                f"{n:,} files: longest gap between progress events",
                                gap,
                                1.0,
                                "1 s",
                                1.0,
                            ),
                        ]
                peak = _rss_mb(pid)[0]
                figures += [
                    Figure(
                        f"µs a file at {large:,} / at {small:,}",
                        per_file[large],
                        per_file[small],
                        f"µs a file at {small:,}",
                        1.25,
                        "µs",
                    ),
                    Figure(
                        f"registry peak RSS (at start {start_rss:.0f} MB)",
                        peak,
                        BUDGET_MB,
                        "100 MB budget",
                        1.0,
                        "MB",
                    ),
                ]
                if size == "full":  # before the cancel, whose clean-up deletes files
                    figures += _for_scale(root, vol_dir, small, large, per_file)
                # cancel a big registration of new content a little way in
                ds = c.post("/datasets", json={"name": "bench-cancel"}).json()["id"]
                r = c.post(
                    f"/datasets/{ds}/versions",
                    json={"volume_id": vol["id"], "path": f"t{-cancel_n}"},
                )
                n = r.json()["number"]
                _wait(c, ds, n, ("processing",), 0.05)
                time.sleep(min(3.0, 0.1 * per_file[large] * large / 1e6))  # well under way
                asked = time.monotonic()
                r = c.delete(f"/datasets/{ds}/versions/{n}")
                r.raise_for_status()
                if r.status_code == 202:  # cancelling (204: it was ready first, and is deleted)
                    v = _wait(c, ds, n, ("cancelled", "ready", "failed"), 0.02)
                    took = time.monotonic() - asked
                    figures.append(
                        Figure(
                            f"{cancel_n:,} files: cancel → {v['status']}",
                            took,
                            2.0,
                            "2 s budget",
                            1.0,
                        )
                    )
                else:
                    print(f"  the {cancel_n:,}-file registration was ready before the cancel")
            finally:
                for n in ns:
                    (vol_dir / f"t{n}").rename(root / f"t{n}")
                events.stop()  # (before the registry stops: its stream ending is expected)
    except BaseException:
        log = home / "hub.log"
        if log.exists():  # what the registry said, before the folder goes
            print(log.read_text(errors="replace")[-6000:], file=sys.stderr)
        raise
    finally:
        hub.stop()
        rmtree_any(home)
        rmtree_any(root / "cp")
    for f in figures:
        print("  " + f.line(), flush=True)
    return figures


run.prints = True  # type: ignore[attr-defined]
__all__ = ["REPO", "Path", "run"]
