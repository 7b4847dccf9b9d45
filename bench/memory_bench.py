"""Peak memory and throughput of registering many small files, in a child process so the
figure is the registry's own (ru_maxrss), with live progress printed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .common import WORK, Figure, make_files, rmtree_any

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from fermi_jupyter.registry.storage import StorageLayout, snapshot
src, root = Path(sys.argv[1]), Path(sys.argv[2])
last = [0.0]
def progress(p):
    now = time.monotonic()
    if now - last[0] > 5:
        last[0] = now
        pct = 100 * p.files_done / max(1, p.files_total or 1)
        print(f"    {p.files_done:,}/{p.files_total:,} files ({pct:.0f}%)",
              file=sys.stderr, flush=True)
t = time.perf_counter()
r = snapshot(StorageLayout(root), src, "ds-mem", 1, progress=progress)
print(json.dumps({"seconds": time.perf_counter() - t, "files": r.files, "bytes": r.bytes,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def register_many(
    files: int, total_bytes: int, label: str, time_budget: float | None
) -> list[Figure]:
    tmp = WORK / f"many-{files}"
    src, root = tmp / "src", tmp / "root"
    t = time.perf_counter()
    make_files(src, files, total_bytes, per_dir=1000)
    print(f"  generated {files:,} files in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    rmtree_any(root)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(root)],
        capture_output=False,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    rmtree_any(root)
    figs = [Figure(f"{label}: peak memory", res["maxrss_mb"], 500, "500 MB budget", 1.0, "MB")]
    if time_budget:
        figs.append(Figure(f"{label}: time", res["seconds"], time_budget, "4.5 min budget", 1.0))
    return figs


def run(size: str) -> list[Figure]:
    if size == "quick":
        return register_many(20_000, 100 * 2**20, "registering 20k files", None)
    figs = register_many(200_000, 1 * 2**30, "registering 200k files", None)
    figs += register_many(1_000_000, 4 * 2**30, "registering 1M files (~4 GB)", 270.0)
    return figs


__all__ = ["Path", "run"]
