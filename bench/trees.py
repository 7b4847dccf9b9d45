"""The tree shapes of the storage benchmarks (issue 12), generated once and reused (a
``.complete`` marker beside each tree says it is whole)."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .common import rmtree_any


@dataclass(frozen=True)
class Shape:
    name: str
    label: str
    make: Callable[[Path], None]
    small_files: bool  # a many-small-file tree: snapshot target 0.8x cp -a, not 1.0x
    single_file: bool = False


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def nested(files: int, levels: int = 5, per_dir: int = 50) -> Callable[[Path], None]:
    """``files`` files of 2-22 KB (≈12 KB), ``per_dir`` a folder, folders ``levels`` deep."""

    def make(root: Path) -> None:
        rng = random.Random(1)
        fanout = max(2, math.ceil((files / per_dir) ** (1 / (levels - 1))))
        for i in range(files):
            d, leaf = root, i // per_dir
            for _ in range(levels - 1):
                d = d / f"d{leaf % fanout:02d}"
                leaf //= fanout
            if i % per_dir == 0:
                d.mkdir(parents=True, exist_ok=True)
            _write(d / f"f{i:07d}.bin", rng.randbytes(rng.randint(2000, 22000)))

    return make


def deep(files: int, depth: int = 40, per_dir: int = 10) -> Callable[[Path], None]:
    """Chains of folders ``depth`` deep with ``per_dir`` files of ~4 KB at every level."""

    def make(root: Path) -> None:
        rng = random.Random(2)
        chains = max(1, files // (depth * per_dir))
        n = 0
        for c in range(chains):
            d = root / f"chain{c:03d}"
            for level in range(depth):
                d = d / f"level{level:02d}"
                d.mkdir(parents=True)
                for _ in range(per_dir):
                    _write(d / f"f{n:07d}.dat", rng.randbytes(rng.randint(3000, 5000)))
                    n += 1

    return make


def imagenet(files: int, classes: int = 100) -> Callable[[Path], None]:
    """Log-normal sizes around 110 KB (median), in class folders, like ImageNet's JPEGs."""

    def make(root: Path) -> None:
        rng = random.Random(3)
        for i in range(files):
            d = root / f"n{i % classes:08d}"
            d.mkdir(parents=True, exist_ok=True)
            size = int(min(2_000_000, rng.lognormvariate(math.log(110_000), 0.5)))
            _write(d / f"img_{i:08d}.JPEG", rng.randbytes(size))

    return make


def one_file(size: int) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        root.mkdir(parents=True)
        with open(root / "big.bin", "wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 64 << 20))
                f.write(chunk)
                left -= len(chunk)

    return make


def empty(files: int, per_dir: int = 1000) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        for i in range(files):
            d = root / f"d{i // per_dir:04d}"
            if i % per_dir == 0:
                d.mkdir(parents=True)
            os.mknod(d / f"e{i:07d}")

    return make


def identical(files: int, per_dir: int = 1000) -> Callable[[Path], None]:
    """``files`` copies of one 1 KB file (more than ext4's 65,000 links per inode at full size)."""
    data = random.Random(4).randbytes(1024)

    def make(root: Path) -> None:
        for i in range(files):
            d = root / f"class{i // per_dir:04d}"
            if i % per_dir == 0:
                d.mkdir(parents=True)
            _write(d / f"label-{i:07d}.txt", data)

    return make


def small_distinct(files: int, per_dir: int = 1000, seed: int = 5) -> Callable[[Path], None]:
    """The end-to-end tree: ``files`` files of 0-2 KB, all different (and different from
    another ``seed``'s)."""

    def make(root: Path) -> None:
        rng = random.Random(seed)
        for i in range(files):
            d = root / f"p{i // per_dir:05d}"
            if i % per_dir == 0:
                d.mkdir(parents=True)
            _write(
                d / f"s{i:08d}.bin", i.to_bytes(8, "little") + rng.randbytes(rng.randint(0, 2040))
            )

    return make


SHAPES = {
    "quick": [
        Shape("small5", "3,000 files ~12 KB, 5 levels", nested(3_000), True),
        Shape("deep40", "1,200 files ~4 KB, 40 levels deep", deep(1_200), True),
        Shape("imagenet", "500 files log-normal ~110 KB", imagenet(500), False),
        Shape("big", "one 128 MiB file", one_file(128 << 20), False, single_file=True),
        Shape("empty", "10,000 empty files", empty(10_000), True),
        Shape("identical", "3,000 identical 1 KB files", identical(3_000), True),
    ],
    "full": [
        Shape("small5", "60,000 files ~12 KB, 5 levels", nested(60_000), True),
        Shape("deep40", "20,000 files ~4 KB, 40 levels deep", deep(20_000), True),
        Shape("imagenet", "10,000 files log-normal ~110 KB", imagenet(10_000), False),
        Shape("big", "one 4 GiB file", one_file(4 << 30), False, single_file=True),
        Shape("empty", "500,000 empty files", empty(500_000), True),
        Shape("identical", "70,000 identical 1 KB files", identical(70_000), True),
    ],
}


def ensure(root: Path, make: Callable[[Path], None]) -> Path:
    """Generate the tree at ``root`` unless a complete one is there."""
    marker = root.with_name(root.name + ".complete")
    if marker.exists() and root.exists():
        return root
    rmtree_any(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    make(root)
    marker.write_text("")
    return root


def forget(root: Path) -> None:
    """Mark a tree as changed (rebuilt next time)."""
    root.with_name(root.name + ".complete").unlink(missing_ok=True)


__all__ = ["SHAPES", "Shape", "ensure", "forget"]
