"""Snapshot versions: copy a source tree into the object store, one read per new file."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import StorageError, readable
from .gc import cleanup_partial, seal
from .layout import StorageLayout
from .manifest import ManifestEntry, ManifestWriter, iter_manifest
from .objects import ensure_fanout, store_file
from .pipeline import ordered_map
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import FileInfo, Skipped, count, walk


class QuickCheck:
    """Merge-joins the previous version's manifest with the walk (both in tree order): files
    with the same path, size and mtime are taken to be unchanged, as rsync does."""

    def __init__(self, manifest: Path | None):
        self._it: Iterator[ManifestEntry] | None = iter_manifest(manifest) if manifest else None
        self._cur: ManifestEntry | None = next(self._it, None) if self._it else None

    def match(self, info: FileInfo) -> ManifestEntry | None:
        if self._cur is None:
            return None
        key = tuple(info.rel.split("/"))
        while self._cur is not None and self._cur.key < key:
            self._cur = next(self._it, None)  # type: ignore[arg-type]
        cur = self._cur
        if (
            cur is not None
            and cur.key == key
            and (cur.size, cur.mtime_ns)
            == (
                info.size,
                info.mtime_ns,
            )
        ):
            return cur
        return None


def snapshot(
    layout: StorageLayout,
    src: Path,
    ds_id: str,
    n: int,
    *,
    previous_manifest: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    layout.ensure()
    ensure_fanout(layout)
    final = layout.version_dir(ds_id, n)
    if final.exists():
        raise StorageError(f"version {n} of {ds_id} already exists on disk", "exists")
    cleanup_partial(layout, ds_id, n)
    partial = layout.partial_dir(ds_id, n)
    partial.mkdir(parents=True)
    src_s, partial_s = str(src), str(partial)
    tracker = Tracker(progress, cancel, *count(src_s))
    tracker.report()
    skipped, dirs = Skipped(), []  # type: ignore[var-annotated]
    quick = QuickCheck(previous_manifest)
    prefix = f"{ds_id}-{n}-"
    writer = ManifestWriter(layout.manifest_path(ds_id, n))
    made: set[str] = {""}

    Item = tuple[FileInfo, "tuple[str, int, int] | None"]

    def items() -> Iterator[Item]:
        for info in walk(src_s, skipped, dirs):
            parent = info.rel.rpartition("/")[0]
            if parent not in made:
                os.makedirs(os.path.join(partial_s, parent), exist_ok=True)
                made.add(parent)
            prev = quick.match(info)
            done = None
            if prev is not None:
                # unchanged since the previous version: one link(2), done here rather than
                # handed to a worker (a thread hand-off costs more than the link)
                try:
                    os.link(layout.object_path(prev.digest), os.path.join(partial_s, info.rel))
                    done = (prev.digest, 0, info.size)
                except FileNotFoundError:
                    pass  # the object was freed meanwhile: store the file again
            yield info, done

    def work(item: Item) -> tuple[str, int, int]:
        info, done = item
        if done is not None:
            return done
        digest, added, nread = store_file(layout, os.path.join(src_s, info.rel), info.size, prefix)
        os.link(layout.object_path(digest), os.path.join(partial_s, info.rel))
        return digest, added, nread

    new_bytes = 0
    results = ordered_map(work, items(), size_of=lambda item: 0 if item[1] else item[0].size)
    try:
        for (info, _done), (digest, added, nread) in results:
            writer.add(ManifestEntry(info.rel, nread, info.mode, info.mtime_ns, digest))
            new_bytes += added
            tracker.add(1, nread)
        for d in dirs:  # empty folders are part of the tree too
            if d not in made:
                os.makedirs(os.path.join(partial_s, d), exist_ok=True)
        tracker.check()
        seal(partial)
        writer.commit()
        os.rename(partial, final)  # the version exists only once it is complete
    except BaseException as e:
        results.close()  # waits for in-flight copies before their folder is removed
        writer.abort()
        cleanup_partial(layout, ds_id, n)
        layout.manifest_path(ds_id, n).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise readable(e, src_s) from e
        raise
    tracker.report()
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        new_bytes=new_bytes,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )
