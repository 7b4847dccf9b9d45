"""What each kind of job does, in three steps so no database connection is held while files
are copied (a connection held for minutes dies with any database restart):

``prepare(layout, db, job, v) -> Plan``  reads what the work needs; raises for a job that
                                         cannot run (its volume is gone, …)
``work(layout, plan, progress, cancel)``  the storage work: no database
``finish(db, job, v, plan, outcome)``     records the result; may run twice (retried on a
                                         database blip), so it only sets values

Every step is safe to repeat after a restart: a job resumed after the registry died picks up
whatever the dead attempt left behind (see docs/explanation/registration.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ...domain.states import JobKind, Mode, VersionStatus, version_move
from .. import storage
from ..errors import RegistryError
from ..orm import Dataset, Job, Version, Volume, utcnow
from ..storage import sealed
from .progress import JobProgress

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """Everything the storage work needs, read from the database before it starts."""

    dataset_id: str
    number: int
    mode: str
    tree: Path  # register: the source folder; verify and restore: the version's files
    manifest: Path
    previous_manifest: Path | None = None
    dest: Path | None = None  # restore
    resumed: bool = False  # an earlier attempt of this job ran (and was interrupted)
    reader: storage.Reader | None = None  # whose permissions apply in the user's volume


@dataclass(frozen=True)
class TransferPlan:
    """A transfer job's plan: the transfer service reads the rest in its own sessions."""

    id: int
    params: dict[str, Any]
    mode: str = "transfer"


@dataclass(frozen=True)
class Task:
    prepare: Callable[[storage.StorageLayout, Session, Job, Version | None], Any]
    work: Callable[[storage.StorageLayout, Any, JobProgress, threading.Event], Any]
    finish: Callable[[Session, Job, Version | None, Any, Any], dict[str, Any]]
    needs_version: bool = True


def transfer_task(run: Callable[..., dict[str, Any]]) -> Task:
    """The job kind ``transfer``, run by the transfer service (``run(layout, db, job, v,
    progress, cancel)``, given a TransferPlan as its job): it records its own result."""
    return Task(
        prepare=lambda layout, db, job, v: TransferPlan(job.id, dict(job.params or {})),
        work=lambda layout, plan, progress, cancel: run(layout, None, plan, None, progress, cancel),
        finish=lambda db, job, v, plan, outcome: outcome,
        needs_version=False,
    )


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
    if v.mode == Mode.snapshot.value:
        return layout.version_dir(v.dataset_id, v.number)
    return _source_dir(layout, db, v)


def previous_manifest(layout: storage.StorageLayout, db: Session, v: Version) -> Path | None:
    """The newest ready snapshot of the same dataset from the same source, for quick checks."""
    prev = db.scalar(
        select(func.max(Version.number)).where(
            Version.dataset_id == v.dataset_id,
            Version.number < v.number,
            Version.status == VersionStatus.ready.value,
            Version.mode == Mode.snapshot.value,
            Version.source_volume_id == v.source_volume_id,
            Version.source_path == v.source_path,
        )
    )
    if prev is None:
        return None
    path = layout.manifest_path(v.dataset_id, prev)
    return path if path.exists() else None


def _plan(layout: storage.StorageLayout, job: Job, v: Version, tree: Path, **kw: Any) -> Plan:
    return Plan(
        dataset_id=v.dataset_id,
        number=v.number,
        mode=v.mode,
        tree=tree,
        manifest=layout.manifest_path(v.dataset_id, v.number),
        resumed=job.attempts > 1,
        **kw,
    )


# -- register -------------------------------------------------------------------------------
def prepare_register(layout: storage.StorageLayout, db: Session, job: Job, v: Version) -> Plan:
    src = _source_dir(layout, db, v)
    prev = previous_manifest(layout, db, v) if v.mode == Mode.snapshot.value else None
    reader = _reader(layout, v.source_volume_id)
    return _plan(layout, job, v, src, previous_manifest=prev, reader=reader)


def register(
    layout: storage.StorageLayout, plan: Plan, progress: JobProgress, cancel: threading.Event
) -> storage.Result:
    ds, n = plan.dataset_id, plan.number
    if plan.mode != Mode.snapshot.value:
        plan.manifest.parent.mkdir(parents=True, exist_ok=True)
        return storage.scan(
            plan.tree, plan.manifest, progress=progress, cancel=cancel, read_as=plan.reader
        )
    try:
        # the registry may have died after the version was renamed into place and before
        # it was recorded: then it is finished, not "already there"
        done = sealed.finished_snapshot(layout, ds, n)
    except sealed.Unfinished as e:
        log.warning("version %s@%s on disk is not complete (%s): building it again", ds, n, e)
        sealed.discard(layout, ds, n)
        done = None
    if done is not None:
        log.info("version %s@%s was already complete on disk: recording it", ds, n)
        return done
    return storage.snapshot(
        layout,
        plan.tree,
        ds,
        n,
        previous_manifest=plan.previous_manifest,
        progress=progress,
        cancel=cancel,
        read_as=plan.reader,
        # what an interrupted attempt stored stays (its journal carries over): a resumed job
        # copies only what is still missing; the runner frees it if the job ends without one
        keep_objects=True,
    )


_TOUCH = (
    update(Dataset.__table__)
    .where(Dataset.__table__.c.id == bindparam("ds_id"))
    .values(updated_at=bindparam("now"))
)


def finish_register(
    db: Session, job: Job, v: Version, plan: Plan, result: storage.Result
) -> dict[str, Any]:
    v.files, v.bytes, v.new_bytes = result.files, result.bytes, result.new_bytes
    v.digest, v.warnings = result.digest, list(result.warnings[:100])
    v.files_done, v.bytes_done = result.files, result.bytes
    v.files_total, v.bytes_total = result.files, result.bytes
    v.status = version_move(v.status, VersionStatus.ready).value
    v.ready_at, v.error, v.phase = utcnow(), None, None
    # the dataset changed too: one UPDATE, without loading its row, after the version's
    # (rows locked in the order every writer takes them: the version, then its dataset)
    db.flush()
    db.execute(_TOUCH, {"ds_id": v.dataset_id, "now": utcnow()})
    return {"files": result.files, "bytes": result.bytes, "new_bytes": result.new_bytes}


# -- verify ---------------------------------------------------------------------------------
def prepare_verify(layout: storage.StorageLayout, db: Session, job: Job, v: Version) -> Plan:
    reader = _reader(layout, v.source_volume_id) if v.mode == Mode.reference.value else None
    return _plan(layout, job, v, version_tree(layout, db, v), reader=reader)


def verify(
    layout: storage.StorageLayout, plan: Plan, progress: JobProgress, cancel: threading.Event
) -> storage.VerifyReport:
    return storage.verify(
        plan.tree,
        plan.manifest,
        progress=progress,
        cancel=cancel,
        compare_modes=plan.mode == Mode.reference.value,  # snapshot files are all read-only
        read_as=plan.reader,
    )


def finish_verify(
    db: Session, job: Job, v: Version, plan: Plan, report: storage.VerifyReport
) -> dict[str, Any]:
    v.verified_at = utcnow()
    if v.status in (VersionStatus.ready.value, VersionStatus.drifted.value):
        want = VersionStatus.ready if report.ok else VersionStatus.drifted
        if v.status != want.value:
            v.status = version_move(v.status, want).value
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
        "files": report.files,
        "bytes": report.bytes,
    }


# -- restore --------------------------------------------------------------------------------
def prepare_restore(layout: storage.StorageLayout, db: Session, job: Job, v: Version) -> Plan:
    vol = db.get(Volume, job.params["volume_id"])
    if vol is None:
        raise RegistryError("the target volume no longer exists")
    dest = storage.confine(layout.volume_dir(vol.id), job.params["path"], must_exist=False)
    reader = _reader(layout, vol.id)
    return _plan(layout, job, v, version_tree(layout, db, v), dest=dest, reader=reader)


def restore(
    layout: storage.StorageLayout, plan: Plan, progress: JobProgress, cancel: threading.Event
) -> storage.Result:
    assert plan.dest is not None
    try:  # restore makes missing folders itself, never through a symlink
        return storage.restore(
            plan.tree,
            plan.manifest,
            plan.dest,
            progress=progress,
            cancel=cancel,
            read_as=plan.reader,
        )
    except storage.StorageError as e:
        if not (plan.resumed and e.reason == "exists"):
            raise
        # the registry died after the restored folder was renamed into place: finished if it
        # holds exactly the version
        report = storage.verify(
            plan.dest, plan.manifest, progress=progress, compare_modes=True, read_as=plan.reader
        )
        if not report.ok:
            raise
        return storage.Result(digest=report.digest, files=report.files, bytes=report.bytes)


def finish_restore(
    db: Session, job: Job, v: Version, plan: Plan, result: storage.Result
) -> dict[str, Any]:
    return {
        "volume_id": job.params["volume_id"],
        "path": job.params["path"],
        "files": result.files,
        "bytes": result.bytes,
    }


TASKS = {
    JobKind.register.value: Task(prepare_register, register, finish_register),
    JobKind.verify.value: Task(prepare_verify, verify, finish_verify),
    JobKind.restore.value: Task(prepare_restore, restore, finish_restore),
}
