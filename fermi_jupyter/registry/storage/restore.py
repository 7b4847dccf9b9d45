"""Copy a version back into a volume as ordinary, writable files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import StorageError, readable
from .gc import rmtree_force
from .hashing import copy_and_hash, open_source
from .manifest import ManifestEntry, iter_manifest
from .pipeline import ordered_map
from .progress import ProgressFn, Tracker
from .results import Result


def restore(
    version_tree: Path,
    manifest_path: Path,
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Build ``dest`` next to itself and rename it into place: all of it or nothing.
    Every file is checked against its manifest digest on the way."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StorageError(f"{dest.name!r} already exists and is not empty", "exists")
    files_total = bytes_total = 0
    for e in iter_manifest(manifest_path):
        files_total, bytes_total = files_total + 1, bytes_total + e.size
    tracker = Tracker(progress, cancel, files_total, bytes_total)
    partial = dest.parent / f".{dest.name}.fermi-partial"
    rmtree_force(partial)
    partial.mkdir(parents=True)
    made: set[str] = {""}

    def entries():  # type: ignore[no-untyped-def]
        for e in iter_manifest(manifest_path):
            parent = e.path.rpartition("/")[0]
            if parent not in made:
                os.makedirs(partial / parent, exist_ok=True)
                made.add(parent)
            yield e

    def work(e: ManifestEntry) -> int:
        src = open_source(str(version_tree / e.path))
        target = str(partial / e.path)
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            digest, n = copy_and_hash(src, out)
        finally:
            os.close(src)
            os.close(out)
        if digest != e.digest:
            raise StorageError(
                f"{e.path} does not match its manifest: verify this version", "corrupt"
            )
        os.chmod(target, e.mode)
        os.utime(target, ns=(e.mtime_ns, e.mtime_ns))
        return n

    results = ordered_map(work, entries(), size_of=lambda e: e.size)
    try:
        for _e, n in results:
            tracker.add(1, n)
        tracker.check()
        if dest.exists():
            dest.rmdir()
        os.rename(partial, dest)
    except FileNotFoundError as e:
        results.close()
        rmtree_force(partial)
        raise StorageError(
            f"the version's files are incomplete ({e.filename})", "corrupt"
        ) from None
    except BaseException as e:
        results.close()
        rmtree_force(partial)
        if isinstance(e, OSError):
            raise readable(e, str(dest.parent)) from e
        raise
    tracker.report()
    return Result(digest="", files=tracker.files, bytes=tracker.bytes, manifest_path=manifest_path)
