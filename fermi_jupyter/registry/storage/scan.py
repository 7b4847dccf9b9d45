"""Reference versions: hash a tree in place, copying nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from . import hooks
from .creds import Reader, Switch, open_as
from .engine import Plan, run
from .errors import readable
from .manifest import ManifestWriter
from .pool import Batch
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import Skipped


def scan(
    src: Path,
    manifest_out: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    read_as: Reader | None = None,
    workers: int | None = None,
) -> Result:
    """Hash every regular file under ``src`` (a resolved path, from :func:`confine`) into a
    manifest at ``manifest_out`` (written to a temp name, renamed when complete). Nothing is
    copied: ``new_bytes`` is 0. ``read_as``: whose permissions apply (the volume owner's)."""
    tracker = Tracker(progress, cancel)
    tracker.report()
    skipped = Skipped()
    switch = Switch(read_as)
    writer: ManifestWriter | None = None
    root_fd = -1
    try:
        switch.enter()
        hooks.pause("source-checked", path=str(src))
        root_fd = open_as(src, switch)
        writer = ManifestWriter(Path(manifest_out))

        def deliver(batch: Batch, result: dict) -> None:
            writer.add_chunk(result["manifest"], result["digest"], result["files"], result["bytes"])  # type: ignore[union-attr]
            tracker.add(result["files"], result["bytes"])

        run(
            Plan(
                op="scan",
                root_fd=root_fd,
                switch=switch,
                tracker=tracker,
                deliver=deliver,
                skipped=skipped,
                config={"hooks": hooks.DIR},
                workers=workers,
            )
        )
        tracker.check()
        writer.commit()
    except BaseException as e:
        if writer is not None:
            writer.abort()
        if isinstance(e, OSError):
            raise readable(e, str(src)) from e
        raise
    finally:
        if root_fd >= 0:
            os.close(root_fd)
        switch.leave()
    tracker.set_totals(writer.files, writer.bytes)
    return Result(
        digest=writer.digest.hexdigest(),
        files=writer.files,
        bytes=writer.bytes,
        new_bytes=0,
        warnings=skipped.warnings(),
        manifest_path=writer.path,
    )
