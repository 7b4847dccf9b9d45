"""Shared benchmark helpers: trees, timing, reference commands, the report."""

from __future__ import annotations

import os
import platform
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".work" / "bench"


@dataclass
class Figure:
    name: str
    ours: float
    reference: float
    reference_name: str
    target: float | None  # max ratio, or None when the figure is informative only
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("inf")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "MISSED"

    def line(self) -> str:
        target = f"≤ {self.target:g}x" if self.target is not None else ""
        return (
            f"{self.name:<44} {self.ours:9.3f} {self.unit:<3} vs {self.reference:9.3f} "
            f"({self.reference_name}) = {self.ratio:6.2f}x {target:>8} {self.verdict}"
        )


def median_time(
    fn: Callable[[], object], runs: int = 3, setup: Callable[[], object] | None = None
) -> float:
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def sh(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)


def need(tool: str) -> None:
    if not shutil.which(tool):
        raise SystemExit(f"bench: '{tool}' is missing; run scripts/setup.sh (it installs it)")


def make_files(
    root: Path, files: int, total_bytes: int, *, seed: int = 1, per_dir: int = 500
) -> None:
    """``files`` files of varied size adding up to about ``total_bytes``, random content."""
    marker = root.with_name(root.name + ".complete")
    if marker.exists() and root.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(seed)
    mean = max(1, total_bytes // files)
    for i in range(files):
        d = root / f"dir-{i // per_dir:05d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        size = max(0, int(rng.uniform(0.2, 1.8) * mean))
        with open(d / f"file-{i:07d}.bin", "wb") as f:
            f.write(os.urandom(size))
    marker.write_text("")  # the next run reuses the tree


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    fs = subprocess.run(["df", "-T", str(REPO)], capture_output=True, text=True).stdout.splitlines()
    fstype = fs[-1].split()[1] if len(fs) > 1 else "?"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {fstype} filesystem, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def rmtree_any(path: Path) -> None:
    """Remove a tree including read-only snapshot folders."""
    if path.exists():
        subprocess.run(["chmod", "-R", "u+w", str(path)], check=False)
        shutil.rmtree(path, ignore_errors=True)
