"""Snapshot versions: copy a source tree into the object store, one read per new file.

1. walk the source once (sizes, modes, mtimes, inodes; the totals for progress);
2. merge-join the walk with the previous version's manifest (both in tree order): files with
   the same path, size and mtime are linked to the object they had, unread (rsync's quick
   check); every other file is read once, hashed while in memory (or while copying, if big)
   and linked or stored;
3. write the manifest, seal the folders read-only, rename ``.N.partial`` to ``N``.

Any failure or cancel removes what was built (and the objects only it stored) and raises.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import StorageError, readable
from .gc import cleanup_partial, seal
from .layout import StorageLayout
from .manifest import ManifestEntry, ManifestWriter, iter_manifest, tree_key
from .objects import Store, ensure_fanout, link_object, store_file
from .pipeline import Pipeline
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import Item, Skipped, walk


class QuickCheck:
    """Streams the previous manifest alongside the walk (both sorted), one entry in memory."""

    def __init__(self, manifest: Path | None):
        self._it: Iterator[ManifestEntry] | None = None
        self._cur: ManifestEntry | None = None
        self._key: tuple[str, ...] = ()
        if manifest is not None and Path(manifest).exists():
            self._it = iter_manifest(manifest)
            self._advance()

    def _advance(self) -> None:
        assert self._it is not None
        try:
            self._cur = next(self._it, None)
        except StorageError:  # an unreadable previous manifest: read every file instead
            self._cur = None
        if self._cur is not None:
            self._key = tree_key(self._cur.path)

    def match(self, item: Item) -> str | None:
        """The digest ``item`` had in the previous version if its size and mtime are the same."""
        if self._cur is None:
            return None
        key = tree_key(item.rel)
        while self._cur is not None and self._key < key:
            self._advance()
        cur = self._cur
        if (
            cur is not None
            and self._key == key
            and cur.size == item.size
            and cur.mtime_ns == item.mtime_ns
        ):
            return cur.digest
        return None


# a unit of work: the file, and the digest it had in the previous version (or None)
Job = tuple[Item, "str | None"]
Done = tuple[str, int, int]  # digest, bytes newly stored, bytes read


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
    """Copy ``src`` into version ``n`` of ``ds_id``; see the module docstring. The source is
    only ever opened read-only. Raises StorageError (reason "exists" if the version is on disk
    already), Cancelled, or a readable StorageError for OS errors."""
    layout.ensure()
    final = layout.version_dir(ds_id, n)
    if final.exists():
        raise StorageError(f"version {n} of {ds_id} already exists on disk", "exists")
    cleanup_partial(layout, ds_id, n)
    ensure_fanout(str(layout.objects_dir))
    partial = layout.partial_dir(ds_id, n)
    partial.mkdir(parents=True)
    src_s = str(src)
    store = Store(str(layout.objects_dir), src_s, str(partial))
    tracker = Tracker(progress, cancel)
    skipped = Skipped()
    writer: ManifestWriter | None = None
    pipeline: Pipeline[Job, Done] | None = None
    new_bytes = 0
    try:
        tracker.report()
        with walk(src_s, tracker=tracker, skipped=skipped, spill_dir=str(layout.tmp_dir)) as items:
            tracker.set_totals(items.files, items.bytes)
            writer = ManifestWriter(layout.manifest_path(ds_id, n))
            quick = QuickCheck(previous_manifest)
            dirs: list[str] = []

            def jobs() -> Iterator[Job]:
                for item in items:
                    if item.size < 0:
                        # folders are made here, on the walking thread, before any of
                        # their files is handed to a worker
                        os.mkdir(f"{store.dst}/{item.rel}")
                        dirs.append(item.rel)
                    else:
                        yield item, quick.match(item)

            def work(job: Job) -> Done:
                item, digest = job
                if digest is not None and link_object(store, digest, item.rel):
                    return digest, 0, item.size  # unchanged: one link(2), not read
                return store_file(store, item.rel, item.size, item.ino, item.mtime_ns, cancel)

            pipeline = Pipeline(work, size_of=lambda job: 0 if job[1] else job[0].size)
            for (item, _prev), (digest, added, nread) in pipeline.run(jobs()):
                writer.add(item.rel, nread, item.mode, item.mtime_ns, digest)
                new_bytes += added
                tracker.add(1, nread)
            tracker.check()
            seal(partial, dirs)
            writer.commit()
            os.rename(partial, final)  # the version exists only once it is complete
    except BaseException as e:
        if pipeline is not None:
            # record what finished anyway, so cleanup frees the objects it stored
            if writer is not None:
                for (item, _prev), (digest, _added, nread) in pipeline.drain():
                    writer.add(item.rel, nread, item.mode, item.mtime_ns, digest)
                writer.flush()
            pipeline.close()
            pipeline = None
        if writer is not None:
            writer.close_keep()
        cleanup_partial(layout, ds_id, n)
        if isinstance(e, OSError):
            raise readable(e, src_s) from e
        raise
    finally:
        if pipeline is not None:
            pipeline.close()
    tracker.report()
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        new_bytes=new_bytes,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )
