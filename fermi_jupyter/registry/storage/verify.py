"""Recompute a version's manifest from its files and report what changed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import readable
from .manifest import ManifestEntry, VersionDigest, iter_manifest
from .progress import ProgressFn, Tracker
from .results import Capped, VerifyReport
from .scan import hash_tree
from .walk import Skipped, count


def verify(
    tree: Path,
    manifest_path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    compare_modes: bool = True,
) -> VerifyReport:
    try:
        return _verify(tree, manifest_path, progress, cancel, compare_modes)
    except OSError as e:
        raise readable(e, str(tree)) from e


def _verify(
    tree: Path,
    manifest_path: Path,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
    compare_modes: bool,
) -> VerifyReport:
    """Walk ``tree`` and merge-join it with the manifest (both in tree order).

    ``compare_modes=False`` for snapshots, whose stored files are all read-only: their
    recorded modes are then used for the digest so an intact snapshot reproduces it.
    """
    expected: Iterator[ManifestEntry] = iter_manifest(manifest_path)
    expected_digest, actual_digest = VersionDigest(), VersionDigest()
    added, removed, changed = Capped(), Capped(), Capped()
    tracker = Tracker(progress, cancel, *count(str(tree)))
    exp = next(expected, None)
    files = nbytes = 0
    for info, digest, nread in hash_tree(str(tree), Skipped(), tracker):
        key = tuple(info.rel.split("/"))
        while exp is not None and exp.key < key:
            expected_digest.add(exp)
            removed.add(exp.path)
            exp = next(expected, None)
        entry = ManifestEntry(info.rel, nread, info.mode, info.mtime_ns, digest)
        files, nbytes = files + 1, nbytes + nread
        if exp is not None and exp.key == key:
            expected_digest.add(exp)
            same_mode = not compare_modes or exp.mode == info.mode
            if (exp.size, exp.digest) != (nread, digest) or not same_mode:
                changed.add(info.rel)
            actual_digest.add(entry, None if compare_modes else exp.mode)
            exp = next(expected, None)
        else:
            added.add(info.rel)
            actual_digest.add(entry)
    while exp is not None:
        expected_digest.add(exp)
        removed.add(exp.path)
        exp = next(expected, None)
    tracker.report()
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
