"""Storage engine figures (issue 12), each against a reference tool on the same files in the
same run, ours and the reference alternating, medians of three:

- hashing (``scan``) vs ``find | xargs -0 -P2 -n 500 b3sum --num-threads 1`` (one big file:
  ``b3sum`` with its own threads), on every tree shape;
- snapshot v1 (which ends with a ``syncfs``) vs ``cp -a`` + ``sync``, on every shape;
- verify of a snapshot vs the same ``b3sum`` on the version's files;
- snapshot v2 with 1% of the files rewritten vs ``rsync -a --link-dest`` + ``sync``, and the
  new bytes it stored;
- peak memory of a scan; the first page of a 100k-entry folder vs ``ls -f``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fermi_jupyter.registry.storage import StorageLayout, list_dir, scan, snapshot, verify

from . import freshfs
from .common import WORK, Figure, median_time, need, rmtree_any, sh
from .trees import SHAPES, Shape, ensure

RUNS = int(os.environ.get("FERMI_BENCH_RUNS", "3"))
B3SUM_P2 = "find {src} -type f -print0 | xargs -0 -P2 -n 500 b3sum --num-threads 1 > /dev/null"


def alternate(
    ours: Callable[[], object],
    ref: Callable[[], object],
    *,
    before_ours: Callable[[], object] | None = None,
    before_ref: Callable[[], object] | None = None,
    runs: int = RUNS,
) -> tuple[float, float]:
    """Medians of ``runs`` timings each, ours and the reference taking turns."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        for fn, before, out in ((ours, before_ours, a), (ref, before_ref, b)):
            if before is not None:
                before()
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


def hashing(shape: Shape, src: Path, tmp: Path) -> Figure:
    out = tmp / "scan.tsv"
    if shape.single_file:
        ref_cmd, ref_name = f"b3sum {src}/big.bin > /dev/null", "b3sum (its threads)"
    else:
        ref_cmd, ref_name = B3SUM_P2.format(src=src), "b3sum -P2"
    sh(ref_cmd)  # warm the page cache
    ours, ref = alternate(lambda: scan(src, out), lambda: sh(ref_cmd))
    return Figure(f"{shape.name}: hash (scan)", ours, ref, ref_name, 1.0)


def snapshot_v1(shape: Shape, src: Path, tmp: Path) -> list[Figure]:
    root, cp_dst = tmp / "store", tmp / "cp"

    def fresh_store() -> None:  # an empty store, as it is after the registry's first start
        rmtree_any(root)
        StorageLayout(root).ensure()
        sh("sync")  # the clean-up is not what the next run's sync should pay for

    def fresh_cp() -> None:
        rmtree_any(cp_dst)
        sh("sync")

    ours, ref = alternate(
        lambda: snapshot(StorageLayout(root), src, "ds-bench", 1),
        lambda: sh(f"cp -a {src} {cp_dst} && sync"),
        before_ours=fresh_store,
        before_ref=fresh_cp,
    )
    rmtree_any(cp_dst)
    target = 0.8 if shape.small_files else 1.0
    figs = [Figure(f"{shape.name}: snapshot v1", ours, ref, "cp -a + sync", target)]
    if shape.name == "small5":
        layout = StorageLayout(root)
        tree = layout.version_dir("ds-bench", 1)
        manifest = layout.manifest_path("ds-bench", 1)
        ref_cmd = B3SUM_P2.format(src=tree)
        v, r = alternate(lambda: verify(tree, manifest, compare_modes=False), lambda: sh(ref_cmd))
        figs.append(Figure(f"{shape.name}: verify a snapshot", v, r, "b3sum -P2", 1.0))
    rmtree_any(root)
    return figs


def snapshot_v2(shape: Shape, src: Path, tmp: Path) -> list[Figure]:
    """1% of the files rewritten (same sizes, new content), on a copy of the tree."""
    need("rsync")
    work, root = tmp / "v2-src", tmp / "v2-store"
    rs_v1, rs_v2 = tmp / "rsync-v1", tmp / "rsync-v2"
    for p in (work, root, rs_v1, rs_v2):
        rmtree_any(p)
    sh(f"cp -a {src} {work}")
    layout = StorageLayout(root)
    layout.ensure()
    v1 = snapshot(layout, work, "ds-bench", 1)
    sh(f"rsync -a {work}/ {rs_v1}/")
    files = sorted(p for p in work.rglob("*") if p.is_file())
    rng = random.Random(7)
    for p in rng.sample(files, max(1, len(files) // 100)):
        p.write_bytes(os.urandom(p.stat().st_size))
    results = []

    def ours() -> None:
        results.append(snapshot(layout, work, "ds-bench", 2, previous_manifest=v1.manifest_path))

    def drop_v2() -> None:
        from fermi_jupyter.registry.storage import remove_version

        remove_version(layout, "ds-bench", 2)
        sh("sync")

    def drop_rsync_v2() -> None:
        rmtree_any(rs_v2)
        sh("sync")

    t_ours, t_ref = alternate(
        ours,
        lambda: sh(f"rsync -a --link-dest={rs_v1} {work}/ {rs_v2}/ && sync"),
        before_ours=drop_v2,
        before_ref=drop_rsync_v2,
    )
    new = results[-1].new_bytes
    for p in (work, root, rs_v1, rs_v2):
        rmtree_any(p)
    return [
        Figure(
            f"{shape.name}: snapshot v2, 1% rewritten",
            t_ours,
            t_ref,
            "rsync --link-dest + sync",
            0.8,
        ),
        Figure(f"{shape.name}: v2 new bytes / tree bytes", new, v1.bytes, "tree bytes", 0.011, "B"),
    ]


SCAN_RSS = r"""
import json, sys
from pathlib import Path
from fermi_jupyter.registry.storage import pool, scan

def hwm(pid="self"):  # peak RSS of this very program (ru_maxrss would count the fork before exec)
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024

scan(Path(sys.argv[1]), Path(sys.argv[2]))
workers = max(hwm(w.proc.pid) for w in pool.WORKER_SET._idle)
print(json.dumps({"self": hwm(), "workers": workers}))
"""


def scan_memory(shape: Shape, src: Path, tmp: Path) -> list[Figure]:
    out = subprocess.run(
        [sys.executable, "-c", SCAN_RSS, str(src), str(tmp / "rss.tsv")],
        capture_output=True,
        text=True,
        check=True,
    )
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    return [
        Figure(
            f"{shape.name}: scan peak RSS, calling process", rss["self"], 24, "24 MB", None, "MB"
        ),
        Figure(f"{shape.name}: scan peak RSS, a worker", rss["workers"], 24, "24 MB", None, "MB"),
    ]


def tree_page(tmp: Path, entries: int) -> Figure:
    big = tmp / "vol" / "wide"
    marker = big.with_name("wide.complete")
    if not marker.exists():
        rmtree_any(big)
        big.mkdir(parents=True)
        for i in range(entries):
            (big / f"img-{i:07d}.jpg").touch()
        marker.write_text("")
    ours = median_time(lambda: list_dir(big.parent, "wide", limit=100), runs=7)
    ref = median_time(lambda: sh(f"ls -f {big}"), runs=7)
    return Figure(f"tree: first page of a {entries:,}-entry folder", ours, ref, "ls -f", 3.0)


def run(size: str) -> list[Figure]:
    need("b3sum")
    base = WORK / size
    figures: list[Figure] = []
    for shape in SHAPES[size]:
        t = time.perf_counter()
        cached = ensure(base / "trees" / shape.name, shape.make)
        v2 = shape.name == "small5"
        copies = 5 if v2 else 3  # the tree, the store, cp's copy; v2: a changed copy, rsync's
        with freshfs.place(base / "work", shape.name, {"src": cached}, copies) as tmp:
            src = tmp / "src"
            print(f"  [{shape.label}] (tree ready in {time.perf_counter() - t:.0f}s)", flush=True)
            for fig in [hashing(shape, src, tmp), *snapshot_v1(shape, src, tmp)]:
                print("  " + fig.line(), flush=True)
                figures.append(fig)
            if v2:
                for fig in snapshot_v2(shape, src, tmp) + scan_memory(shape, src, tmp):
                    print("  " + fig.line(), flush=True)
                    figures.append(fig)
        rmtree_any(base / "work" / shape.name)
    fig = tree_page(base, 100_000 if size == "full" else 20_000)
    print("  " + fig.line(), flush=True)
    return [*figures, fig]


run.prints = True  # type: ignore[attr-defined]
