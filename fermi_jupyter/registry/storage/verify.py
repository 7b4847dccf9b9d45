"""Recompute a version's manifest from its files and report what changed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from . import hooks
from .creds import Reader, Switch, open_as
from .engine import Plan, run
from .errors import readable
from .manifest import ManifestCursor, VersionDigest
from .pool import Batch
from .progress import ProgressFn, Tracker
from .results import Capped, VerifyReport
from .walk import Folder, Skipped

_KINDS = ("added", "removed", "changed", "unprotected")


def verify(
    tree: Path,
    manifest_path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    compare_modes: bool = True,
    read_as: Reader | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Rehash ``tree`` and compare it with the manifest: files added, removed or changed
    (content, size, or mode when ``compare_modes``). ``digest`` is the tree's version digest
    as found, ``expected_digest`` the manifest's.

    ``compare_modes=False`` is for snapshots, whose stored files are all read-only (0444):
    their recorded modes are then used, so an intact snapshot reproduces its digest — and
    every stored file and folder is checked to be still read-only and owned by the store
    (``unprotected`` lists those that are not: someone changed them, or could)."""
    tracker = Tracker(progress, cancel)
    tracker.report()
    actual, expected = VersionDigest(), VersionDigest()
    lists = {k: Capped() for k in _KINDS}
    files = nbytes = 0
    snapshot = not compare_modes
    store_uid = os.geteuid() if snapshot else None
    switch = Switch(read_as)
    root_fd = -1

    def deliver(batch: Batch, result: dict) -> None:
        nonlocal files, nbytes
        actual.update(result["digest"])
        expected.update(result["expected"])
        files += result["files"]
        nbytes += result["bytes"]
        for kind, names in result["lists"].items():
            lists[kind].extend_counted(names, result["counts"][kind])
        tracker.add(result["files"], result["bytes"])

    def on_folder(folder: Folder, parent: Folder | None) -> None:
        if snapshot:
            st = os.fstat(folder.fd)
            if stat.S_IMODE(st.st_mode) != 0o555 or st.st_uid != store_uid:
                lists["unprotected"].add((folder.rel or ".") + "/")

    try:
        switch.enter()
        hooks.pause("source-checked", path=str(tree))
        root_fd = open_as(tree, switch)
        run(
            Plan(
                op="verify",
                root_fd=root_fd,
                switch=switch,
                tracker=tracker,
                deliver=deliver,
                skipped=Skipped(),
                cursor=ManifestCursor(manifest_path),
                markers=True,
                config={"compare_modes": compare_modes, "store_uid": store_uid, "hooks": hooks.DIR},
                on_folder=on_folder,
                workers=workers,
            )
        )
        tracker.check()
    except OSError as e:
        raise readable(e, str(tree)) from e
    finally:
        if root_fd >= 0:
            os.close(root_fd)
        switch.leave()
    tracker.set_totals(files, nbytes)
    ok = not any(lists[k].total for k in _KINDS)
    return VerifyReport(
        ok=ok,
        digest=actual.hexdigest(),
        expected_digest=expected.hexdigest(),
        added=list(lists["added"]),
        removed=list(lists["removed"]),
        changed=list(lists["changed"]),
        unprotected=list(lists["unprotected"]),
        files=files,
        bytes=nbytes,
        n_added=lists["added"].total,
        n_removed=lists["removed"].total,
        n_changed=lists["changed"].total,
        n_unprotected=lists["unprotected"].total,
    )
