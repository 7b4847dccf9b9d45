"""Recompute a version's manifest from its files and report what changed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import readable
from .manifest import ManifestEntry, VersionDigest, digest_line, iter_manifest, tree_key
from .progress import ProgressFn, Tracker
from .results import Capped, VerifyReport
from .scan import hash_listing
from .walk import Skipped, walk


def verify(
    tree: Path,
    manifest_path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    compare_modes: bool = True,
) -> VerifyReport:
    """Rehash ``tree`` and compare it with the manifest: files added, removed or changed
    (content, size, or mode when ``compare_modes``). ``digest`` is the tree's version digest
    as found, ``expected_digest`` the manifest's.

    ``compare_modes=False`` is for snapshots, whose stored files are all read-only (0444):
    their recorded modes are then used, so an intact snapshot reproduces its digest."""
    tracker = Tracker(progress, cancel)
    try:
        tracker.report()
        with walk(str(tree), tracker=tracker, skipped=Skipped()) as items:
            tracker.set_totals(items.files, items.bytes)
            report = _compare(str(tree), items, manifest_path, tracker, cancel, compare_modes)
    except OSError as e:
        raise readable(e, str(tree)) from e
    tracker.report()
    return report


def _compare(
    root: str,
    items,  # type: ignore[no-untyped-def]
    manifest_path: Path,
    tracker: Tracker,
    cancel: threading.Event | None,
    compare_modes: bool,
) -> VerifyReport:
    """Merge-join the walk with the manifest, both in tree order."""
    expected: Iterator[ManifestEntry] = iter_manifest(manifest_path)
    expected_digest, actual_digest = VersionDigest(), VersionDigest()
    added, removed, changed = Capped(), Capped(), Capped()
    exp = next(expected, None)
    exp_key = tree_key(exp.path) if exp else ()
    files = nbytes = 0
    for item, digest, nread in hash_listing(root, items, tracker, cancel):
        key = tree_key(item.rel)
        while exp is not None and exp_key < key:
            expected_digest.add(exp)
            removed.add(exp.path)
            exp = next(expected, None)
            exp_key = tree_key(exp.path) if exp else ()
        files, nbytes = files + 1, nbytes + nread
        mode = item.mode
        if exp is not None and exp_key == key:
            expected_digest.add(exp)
            if not compare_modes:
                mode = exp.mode
            if (exp.size, exp.digest, exp.mode) != (nread, digest, mode):
                changed.add(item.rel)
            exp = next(expected, None)
            exp_key = tree_key(exp.path) if exp else ()
        else:
            added.add(item.rel)
        actual_digest.update(digest_line(item.rel, nread, mode, digest))
    while exp is not None:
        expected_digest.add(exp)
        removed.add(exp.path)
        exp = next(expected, None)
    tracker.check()
    ok = not (added.total or removed.total or changed.total)
    return VerifyReport(
        ok=ok,
        digest=actual_digest.hexdigest(),
        expected_digest=expected_digest.hexdigest(),
        added=list(added),
        removed=list(removed),
        changed=list(changed),
        files=files,
        bytes=nbytes,
        n_added=added.total,
        n_removed=removed.total,
        n_changed=changed.total,
    )
