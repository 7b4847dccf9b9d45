"""Run the benchmarks: ``.venv/bin/python -m bench [--full] [storage|memory|search ...]``.

Each figure is printed as a ratio against a reference measured in the same run, and the table
is written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import common, memory_bench, spawner_bench, storage_bench, transfer_bench
from .report import write_report

SUITES = {
    "storage": storage_bench.run,
    "memory": memory_bench.run,
    "spawner": spawner_bench.run,
    "transfers": transfer_bench.run,
}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("suites", nargs="*", help="storage, memory, search, spawner (default: all)")
    ap.add_argument(
        "--full", action="store_true", help="the issue's sizes (2 GB, 1M files: ~15 min)"
    )
    ap.add_argument("--no-report", action="store_true", help="print only; leave docs/ alone")
    args = ap.parse_args()
    size = "full" if args.full else "quick"
    chosen = args.suites or [*SUITES, "search"]
    unknown = set(chosen) - {*SUITES, "search"}
    if unknown:
        ap.error(
            f"unknown suite(s) {', '.join(sorted(unknown))}: "
            "choose storage, memory, search, spawner or transfers"
        )
    print(f"fermi_jupyter benchmarks ({size}) on {common.machine()}")
    figures, search_rows = [], []
    for name in chosen:
        t = time.perf_counter()
        print(f"\n[{name}]", flush=True)
        if name == "search":
            from . import registry_search

            search_rows = registry_search.run(100_000 if args.full else 20_000)
            for backend, case, ms, ratio in search_rows:
                print(f"  {backend:<10} {case:<28} p95 {ms:7.2f} ms  {ratio:5.1f}x reference")
        else:
            for fig in SUITES[name](size):
                print("  " + fig.line(), flush=True)
                figures.append(fig)
        print(f"  ({time.perf_counter() - t:.0f}s)")
    if not args.no_report:
        write_report(size, figures, search_rows)
    missed = [f.name for f in figures if f.verdict == "MISSED"]
    if missed:
        print("\nmissed targets: " + "; ".join(missed))
    sys.exit(0)


if __name__ == "__main__":
    main()
