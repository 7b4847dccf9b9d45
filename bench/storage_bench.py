"""Storage engine figures, each against a reference tool on the same files in the same run:
hashing vs b3sum, snapshot vs cp -a, second snapshot vs rsync --link-dest, tree page vs ls -f."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from fermi_jupyter.registry.storage import StorageLayout, list_dir, scan, snapshot

from .common import WORK, Figure, make_files, median_time, need, rmtree_any, sh

SIZES = {
    "quick": {"files": 4_000, "bytes": 400 * 2**20, "dir": 20_000},
    "full": {"files": 20_000, "bytes": 2 * 2**30, "dir": 100_000},
}


def du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-s", "-B1", str(path)], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def hashing(src: Path, tmp: Path) -> Figure:
    need("b3sum")
    manifest = tmp / "hash.tsv"
    ours = median_time(lambda: scan(src, manifest))
    # b3sum on two processes, one thread each: the fairest match for many files on 2 cores
    ref = median_time(
        lambda: sh(f"find {src} -type f -print0 | xargs -0 -n 256 -P2 b3sum --num-threads 1")
    )
    return Figure("manifest hashing (scan)", ours, ref, "b3sum -P2", 1.25)


def snapshots(src: Path, tmp: Path, nfiles: int) -> list[Figure]:
    need("rsync")
    root = tmp / "root"
    cp_dst, rs_v1, rs_v2 = tmp / "cp", tmp / "rsync-v1", tmp / "rsync-v2"
    counter = {"n": 0}

    def fresh_root() -> None:
        rmtree_any(root)
        StorageLayout(root).ensure()

    def ours_v1() -> None:
        counter["n"] += 1
        snapshot(StorageLayout(root), src, "ds-bench", 1)

    t_v1 = median_time(ours_v1, setup=fresh_root)
    t_cp = median_time(lambda: sh(f"cp -a {src} {cp_dst}"), setup=lambda: rmtree_any(cp_dst))
    layout = StorageLayout(root)
    stored_v1 = du_bytes(layout.objects_dir)

    # change 1% of the files (same sizes, new content, new mtimes)
    files = sorted(p for p in src.rglob("*") if p.is_file())[:: max(1, 100)]
    for p in files:
        p.write_bytes(os.urandom(p.stat().st_size))
    v1_manifest = layout.manifest_path("ds-bench", 1)

    def drop_v2() -> None:
        from fermi_jupyter.registry.storage import remove_version

        if layout.version_dir("ds-bench", 2).exists():
            remove_version(layout, "ds-bench", 2)

    t_v2 = median_time(
        lambda: snapshot(layout, src, "ds-bench", 2, previous_manifest=v1_manifest), setup=drop_v2
    )
    new_bytes = du_bytes(layout.objects_dir) - stored_v1
    rmtree_any(rs_v1)
    sh(f"rsync -a {cp_dst}/ {rs_v1}/")
    t_rs = median_time(
        lambda: sh(f"rsync -a --link-dest={rs_v1} {src}/ {rs_v2}/"), setup=lambda: rmtree_any(rs_v2)
    )
    total = du_bytes(src)
    return [
        Figure("snapshot v1", t_v1, t_cp, "cp -a", 1.2),
        Figure("snapshot v2, 1% of files changed", t_v2, t_rs, "rsync -a --link-dest", 1.1),
        Figure("snapshot v2 time / v1 time", t_v2, t_v1, "our v1", 0.05),
        Figure("for scale: rsync v2 time / cp -a time", t_rs, t_cp, "cp -a", None),
        Figure("snapshot v2 new bytes on disk / tree", new_bytes, total, "tree bytes", 0.02, "B"),
    ]


def tree_page(tmp: Path, entries: int) -> Figure:
    big = tmp / "vol" / "wide"
    marker = big.with_name("wide.complete")
    if not marker.exists():
        shutil.rmtree(big, ignore_errors=True)
        big.mkdir(parents=True)
        for i in range(entries):
            (big / f"img-{i:07d}.jpg").touch()
        marker.write_text("")
    ours = median_time(lambda: list_dir(big.parent, "wide", limit=100), runs=7)
    ref = median_time(lambda: sh(f"ls -f {big}"), runs=7)
    return Figure(f"tree: first page of a {entries:,}-entry folder", ours, ref, "ls -f", 3.0)


def run(size: str) -> list[Figure]:
    cfg = SIZES[size]
    tmp = WORK / size
    src = tmp / "src"
    tmp.mkdir(parents=True, exist_ok=True)
    make_files(src, cfg["files"], cfg["bytes"])
    figures = [hashing(src, tmp)]
    figures += snapshots(src, tmp, cfg["files"])
    (src.with_name("src.complete")).unlink(
        missing_ok=True
    )  # the tree was modified: rebuild next time
    figures.append(tree_page(tmp, cfg["dir"]))
    return figures
