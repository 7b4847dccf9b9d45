"""Reference versions: hash a tree in place, copying nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import readable
from .hashing import hash_file
from .manifest import ManifestWriter
from .pipeline import Pipeline
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import Item, Listing, Skipped, walk


def hash_listing(
    root: str, items: Listing, tracker: Tracker, cancel: threading.Event | None
) -> Iterator[tuple[Item, str, int]]:
    """(item, digest, bytes read) for every file of ``items``, in order, hashed on worker
    threads; progress counted as results arrive."""

    def work(item: Item) -> tuple[str, int]:
        return hash_file(f"{root}/{item.rel}", item.rel, item.ino, cancel)

    with Pipeline(work, size_of=lambda item: item.size) as pipeline:
        for item, (digest, nread) in pipeline.run(i for i in items if i.size >= 0):
            tracker.add(1, nread)
            yield item, digest, nread


def scan(
    src: Path,
    manifest_out: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Hash every regular file under ``src`` into a manifest at ``manifest_out`` (written to
    a temp name, renamed when complete). Nothing is copied: ``new_bytes`` is 0."""
    src_s = str(src)
    manifest_out = Path(manifest_out)
    tracker = Tracker(progress, cancel)
    skipped = Skipped()
    writer: ManifestWriter | None = None
    try:
        tracker.report()
        manifest_out.parent.mkdir(parents=True, exist_ok=True)
        spill = str(manifest_out.parent)
        with walk(src_s, tracker=tracker, skipped=skipped, spill_dir=spill) as items:
            tracker.set_totals(items.files, items.bytes)
            writer = ManifestWriter(manifest_out)
            for item, digest, nread in hash_listing(src_s, items, tracker, cancel):
                writer.add(item.rel, nread, item.mode, item.mtime_ns, digest)
            tracker.check()
            writer.commit()
    except BaseException as e:
        if writer is not None:
            writer.abort()
        if isinstance(e, OSError):
            raise readable(e, src_s) from e
        raise
    tracker.report()
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        new_bytes=0,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )
