"""The quick storage benchmarks run to the end in CI: a run that must finish and print every
figure with its reference, not a timed assertion (speed is judged by people reading
docs/benchmarks.md, measured on a quiet machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIGURES = [
    "small5: hash (scan)",
    "small5: snapshot v1",
    "small5: verify a snapshot",
    "small5: snapshot v2, 1% rewritten",
    "small5: v2 new bytes / tree bytes",
    "deep40: hash (scan)",
    "imagenet: snapshot v1",
    "big: hash (scan)",
    "empty: snapshot v1",
    "identical: snapshot v1",
    "tree: first page",
    "files end to end: time",
    "longest gap between progress events",
    "registry peak RSS",
    "cancel →",
]


def test_quick_storage_benchmarks_finish():
    r = subprocess.run(
        [sys.executable, "-m", "bench", "storage", "e2e", "--no-report"],
        cwd=REPO,
        env={**os.environ, "FERMI_BENCH_RUNS": "1"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    missing = [f for f in FIGURES if f not in r.stdout]
    assert not missing, (missing, r.stdout[-4000:])
    for line in r.stdout.splitlines():  # every figure is printed with its reference
        if "x " in line and " vs " in line:
            assert "(" in line and ")" in line, line
