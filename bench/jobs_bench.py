"""Job recovery figures: what a registration resumed after a crash costs, against a fresh
snapshot of the same tree in the same run (medians of 3, warm page cache).

- resumed: the registry died just before renaming the version into place, so the half-built
  tree is complete and every object is stored; the resumed attempt removes the tree and
  snapshots again, finding each object by its digest (jobs/tasks.py ``register``);
- finished from disk: the registry died after the rename, before recording ``ready``; the
  resumed attempt checks the folder against its manifest instead (storage/sealed.py).
"""

from __future__ import annotations

import os

from fermi_jupyter.registry.storage import StorageLayout, cleanup_partial, snapshot
from fermi_jupyter.registry.storage.sealed import finished_snapshot

from .common import WORK, Figure, make_files, median_time, rmtree_any

SIZES = {
    "quick": {"files": 4_000, "bytes": 200 * 2**20},
    "full": {"files": 20_000, "bytes": 2 * 2**30},
}
DS = "ds-benchjobs"


def run(size: str) -> list[Figure]:
    cfg = SIZES[size]
    tmp = WORK / size / "jobs"
    src = WORK / size / "jobs-src"
    tmp.mkdir(parents=True, exist_ok=True)
    make_files(src, cfg["files"], cfg["bytes"], seed=7)
    root = tmp / "root"
    layout = StorageLayout(root)

    def empty_store() -> None:
        rmtree_any(root)
        layout.ensure()

    def fresh() -> None:
        snapshot(layout, src, DS, 1)

    def killed_before_rename() -> None:
        # what a kill just before the rename leaves: the whole tree, still ".1.partial"
        final, partial = layout.version_dir(DS, 1), layout.partial_dir(DS, 1)
        if final.exists():
            os.rename(final, partial)
        layout.manifest_path(DS, 1).unlink(missing_ok=True)

    def resumed() -> None:
        cleanup_partial(layout, DS, 1)
        snapshot(layout, src, DS, 1)

    reference = median_time(fresh, setup=empty_store)
    empty_store()
    fresh()
    redo = median_time(resumed, setup=killed_before_rename)
    check = median_time(lambda: finished_snapshot(layout, DS, 1))
    rmtree_any(root)
    n = f"{cfg['files']:,} files, {cfg['bytes'] // 2**20:,} MiB"
    return [
        Figure(f"resumed registration, every object stored ({n})", redo, reference, "fresh", None),
        Figure(f"version finished from disk ({n})", check, reference, "fresh snapshot", None),
    ]
