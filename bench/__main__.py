"""Run the benchmarks: ``.venv/bin/python -m bench [--full] [SUITE ...]`` (see --help).

Each figure is printed as a ratio against a reference measured in the same run, and the table
is written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import common, e2e_bench, freshfs, jobs_bench, spawner_bench, storage_bench, transfer_bench
from .report import write_report

SUITES = {
    "storage": storage_bench.run,
    "e2e": e2e_bench.run,
    "spawner": spawner_bench.run,
    "jobs": jobs_bench.run,
    "transfers": transfer_bench.run,
}
STORAGE = ("storage", "e2e")  # written to their own section of docs/benchmarks.md


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument(
        "suites",
        nargs="*",
        help="storage, e2e, search, spawner, jobs, serve, dbaccess (default: all but the last two)",
    )
    ap.add_argument(
        "--full", action="store_true", help="the issues' sizes (4 GiB, 1M files: ~40 min)"
    )
    ap.add_argument("--no-report", action="store_true", help="print only; leave docs/ alone")
    ap.add_argument(
        "--fs",
        choices=("auto", "fresh", "work"),
        default="auto",
        help="storage and e2e: measure each tree on a new filesystem (fresh: needs root), or in "
        "the work folder (work); auto: fresh for --full when it can",
    )
    args = ap.parse_args()
    size = "full" if args.full else "quick"
    chosen = args.suites or [*SUITES, "search"]
    unknown = set(chosen) - {*SUITES, "search", "serve", "dbaccess"}
    if unknown:
        ap.error(
            f"unknown suite(s) {', '.join(sorted(unknown))}: choose storage, e2e, search, spawner, "
            "jobs, transfers, serve or dbaccess"
        )
    print(f"fermi_jupyter benchmarks ({size}) on {common.machine()}")
    where = ""
    if set(chosen) & set(STORAGE):
        asked = "work" if args.fs == "auto" and not args.full else args.fs
        where = freshfs.choose(asked, common.WORK)
        print("storage figures: " + where)
    figures, search_rows, storage_figures = [], [], []
    for name in chosen:
        t = time.perf_counter()
        print(f"\n[{name}]", flush=True)
        if name == "dbaccess":
            from . import dbaccess_bench

            print("\n".join(dbaccess_bench.run()))
        elif name == "serve":
            from . import serve_bench

            results = serve_bench.run(seconds=20 if args.full else 10)
            print("\n".join(serve_bench.lines(results)))
            if not args.no_report:
                serve_bench.write_report(results, common.machine())
        elif name == "search":
            from . import registry_search

            search_rows = registry_search.run(100_000 if args.full else 20_000)
            for backend, case, ms, ratio in search_rows:
                print(f"  {backend:<10} {case:<28} p95 {ms:7.2f} ms  {ratio:5.1f}x reference")
        else:
            suite = SUITES[name]
            for fig in suite(size):
                if not getattr(suite, "prints", False):  # (some print as they go)
                    print("  " + fig.line(), flush=True)
                (storage_figures if name in STORAGE else figures).append(fig)
        print(f"  ({time.perf_counter() - t:.0f}s)")
    if not args.no_report:
        if figures or search_rows:
            write_report(size, figures, search_rows)
        if storage_figures:  # the storage engine's own section
            write_report(size, storage_figures, [], block=f"storage-{size}", where=where)
    missed = [f.name for f in figures + storage_figures if f.verdict == "MISSED"]
    if missed:
        print("\nmissed targets: " + "; ".join(missed))
    sys.exit(0)


if __name__ == "__main__":
    main()
