"""Reference versions: hash a tree in place, copying nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import readable
from .hashing import hash_file
from .manifest import ManifestEntry, ManifestWriter
from .pipeline import ordered_map
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import FileInfo, Skipped, count, walk


def hash_tree(src: str, skipped: Skipped, tracker: Tracker):  # type: ignore[no-untyped-def]
    """Yield (FileInfo, digest, bytes read) in tree order, hashing on worker threads."""

    def work(info: FileInfo) -> tuple[str, int]:
        return hash_file(os.path.join(src, info.rel), info.size)

    results = ordered_map(work, walk(src, skipped), size_of=lambda info: info.size)
    try:
        for info, (digest, nread) in results:
            tracker.add(1, nread)
            yield info, digest, nread
    finally:
        results.close()


def scan(
    src: Path,
    manifest_out: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    src_s = str(src)
    tracker = Tracker(progress, cancel, *count(src_s))
    tracker.report()
    skipped = Skipped()
    writer = ManifestWriter(manifest_out)
    try:
        for info, digest, nread in hash_tree(src_s, skipped, tracker):
            writer.add(ManifestEntry(info.rel, nread, info.mode, info.mtime_ns, digest))
        tracker.check()
        writer.commit()
    except BaseException as e:
        writer.abort()
        if isinstance(e, OSError):
            raise readable(e, src_s) from e
        raise
    tracker.report()
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )
