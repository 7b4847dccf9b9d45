"""What each job kind does. Runs in a worker thread with its own session."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import storage
from ..errors import RegistryError
from ..orm import Dataset, Job, Version, Volume, utcnow
from .progress import JobProgress


def _source_dir(layout: storage.StorageLayout, db: Session, v: Version) -> Path:
    vol = db.get(Volume, v.source_volume_id)
    if vol is None:
        raise RegistryError(f"source volume {v.source_volume_id} no longer exists")
    return storage.confine(layout.volume_dir(vol.id), v.source_path, kind="dir")


def _reader(layout: storage.StorageLayout, vol_id: str) -> storage.Reader | None:
    """Whose permissions apply to reading (or restoring into) the volume: its owner's."""
    return storage.Reader.of(layout.volume_dir(vol_id))


def version_tree(layout: storage.StorageLayout, db: Session, v: Version) -> Path:
    """Where a ready version's files are: its snapshot, or its source for references."""
    if v.mode == "snapshot":
        return layout.version_dir(v.dataset_id, v.number)
    return _source_dir(layout, db, v)


def previous_manifest(layout: storage.StorageLayout, db: Session, v: Version) -> Path | None:
    """The newest ready snapshot of the same dataset from the same source, for quick checks."""
    prev = db.scalar(
        select(func.max(Version.number)).where(
            Version.dataset_id == v.dataset_id,
            Version.number < v.number,
            Version.status == "ready",
            Version.mode == "snapshot",
            Version.source_volume_id == v.source_volume_id,
            Version.source_path == v.source_path,
        )
    )
    if prev is None:
        return None
    path = layout.manifest_path(v.dataset_id, prev)
    return path if path.exists() else None


def register(
    layout: storage.StorageLayout,
    db: Session,
    job: Job,
    v: Version,
    progress: JobProgress,
    cancel: threading.Event,
) -> dict[str, Any]:
    src = _source_dir(layout, db, v)
    storage.cleanup_partial(layout, v.dataset_id, v.number)
    if v.mode == "snapshot":
        result = storage.snapshot(
            layout,
            src,
            v.dataset_id,
            v.number,
            previous_manifest=previous_manifest(layout, db, v),
            progress=progress,
            cancel=cancel,
            read_as=_reader(layout, v.source_volume_id),
        )
    else:
        out = layout.manifest_path(v.dataset_id, v.number)
        out.parent.mkdir(parents=True, exist_ok=True)
        result = storage.scan(
            src, out, progress=progress, cancel=cancel, read_as=_reader(layout, v.source_volume_id)
        )
    v.files, v.bytes, v.new_bytes = result.files, result.bytes, result.new_bytes
    v.digest, v.warnings = result.digest, result.warnings[:100]
    v.files_done, v.bytes_done = result.files, result.bytes
    v.files_total, v.bytes_total = result.files, result.bytes
    v.status, v.ready_at, v.error = "ready", utcnow(), None
    ds = db.get(Dataset, v.dataset_id)
    if ds is not None:
        ds.updated_at = utcnow()
    return {"files": result.files, "bytes": result.bytes, "new_bytes": result.new_bytes}


def verify(
    layout: storage.StorageLayout,
    db: Session,
    job: Job,
    v: Version,
    progress: JobProgress,
    cancel: threading.Event,
) -> dict[str, Any]:
    report = storage.verify(
        version_tree(layout, db, v),
        layout.manifest_path(v.dataset_id, v.number),
        progress=progress,
        cancel=cancel,
        compare_modes=v.mode == "reference",  # snapshot files are all stored read-only
        read_as=_reader(layout, v.source_volume_id) if v.mode == "reference" else None,
    )
    v.verified_at = utcnow()
    if v.status in ("ready", "drifted"):
        v.status = "ready" if report.ok else "drifted"
    return {
        "ok": report.ok,
        "digest": report.digest,
        "expected_digest": report.expected_digest,
        "added": report.added,
        "removed": report.removed,
        "changed": report.changed,
        "n_added": report.n_added,
        "n_removed": report.n_removed,
        "n_changed": report.n_changed,
        "unprotected": report.unprotected,
        "n_unprotected": report.n_unprotected,
        "files": report.files,
        "bytes": report.bytes,
    }


def restore(
    layout: storage.StorageLayout,
    db: Session,
    job: Job,
    v: Version,
    progress: JobProgress,
    cancel: threading.Event,
) -> dict[str, Any]:
    vol = db.get(Volume, job.params["volume_id"])
    if vol is None:
        raise RegistryError("the target volume no longer exists")
    dest = storage.confine(layout.volume_dir(vol.id), job.params["path"], must_exist=False)
    result = storage.restore(  # makes missing folders itself, never through a symlink
        version_tree(layout, db, v),
        layout.manifest_path(v.dataset_id, v.number),
        dest,
        progress=progress,
        cancel=cancel,
        read_as=_reader(layout, vol.id),
    )
    return {
        "volume_id": vol.id,
        "path": job.params["path"],
        "files": result.files,
        "bytes": result.bytes,
    }


TASKS = {"register": register, "verify": verify, "restore": restore}
