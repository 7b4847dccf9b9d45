"""Versions: register (→ a job), get, manifest, verify, restore, cancel, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.refs import parse_ref
from ...domain.states import Mode
from ...domain.visibility import can_use_volume, can_write
from .. import audit, storage
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..jobs import JobRunner
from ..orm import Alias, Dataset, Job, Mount, Version, Volume, int_key
from ..pagination import decode_cursor, encode_cursor
from . import datasets as datasets_mgr

MAX_PARENTS = 50


def select_version(db: Session, ds: Dataset, selector: str) -> Version:
    """A version of ``ds`` by number, ``latest`` (newest ready) or alias name."""
    if selector.isascii() and selector.isdigit():
        number: int | None = int_key(selector)  # None (not found) beyond an Integer column
    elif selector == "latest":
        number = datasets_mgr.latest_numbers(db, [ds.id]).get(ds.id)
        if number is None:
            raise NotFound(f"dataset {ds.name!r} has no ready version yet", reason="no-ready")
    else:
        alias = db.get(Alias, (ds.id, selector))
        number = alias.number if alias else None
    v = (
        db.scalars(select(Version).filter_by(dataset_id=ds.id, number=number)).first()
        if number is not None
        else None
    )
    if v is None:
        raise NotFound(f"dataset {ds.name!r} has no version {selector!r}", reason="no-version")
    return v


def resolve_ref(db: Session, who: Identity, text: str) -> Version:
    try:
        ref = parse_ref(text)
    except ValueError as e:
        raise BadRequest(str(e), reason="invalid-ref") from None
    return select_version(db, datasets_mgr.resolve(db, who, ref.dataset), ref.selector)


def _parents(db: Session, who: Identity, value: Any) -> list[str]:
    if value in (None, []):
        return []
    if not isinstance(value, list) or len(value) > MAX_PARENTS:
        raise BadRequest(f"parents must be a list of at most {MAX_PARENTS} references")
    out = []
    for text in value:
        if not isinstance(text, str):
            raise BadRequest("each parent is a reference such as ds-abc@3")
        out.append(resolve_ref(db, who, text).ref)
    return sorted(set(out))


def register(
    db: Session,
    runner: JobRunner,
    layout: storage.StorageLayout,
    who: Identity,
    ds: Dataset,
    body: dict,
) -> Version:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may add versions to {ds.name!r}")
    mode = body.get("mode", Mode.snapshot.value)
    if mode not in (Mode.snapshot.value, Mode.reference.value):
        raise BadRequest("mode must be 'snapshot' (copy, default) or 'reference' (in place)")
    vol_id = body.get("volume_id")
    if not isinstance(vol_id, str) or not vol_id:
        raise BadRequest("volume_id is required: the volume that holds the directory")
    vol = db.get(Volume, vol_id)
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(f"no volume {vol_id!r} that you can use", reason="volume-not-found")
    if vol.backend != "root":
        raise BadRequest("only volumes on the platform storage can be registered from here")
    path = body.get("path", "")
    if not isinstance(path, str):
        raise BadRequest("path must be a string relative to the volume root")
    # refuse bad paths now, with a 4xx, rather than as a failed job later
    storage.confine(layout.volume_dir(vol.id), path, kind="dir")
    parents = _parents(db, who, body.get("parents"))
    message = str(body.get("message") or "")[:2000]

    # one atomic statement hands out the number, whatever else runs concurrently
    number = (
        db.execute(
            update(Dataset)
            .where(Dataset.id == ds.id)
            .values(next_version=Dataset.next_version + 1)
            .returning(Dataset.next_version)
        ).scalar_one()
        - 1
    )
    v = Version(
        dataset_id=ds.id,
        number=number,
        status="pending",
        mode=mode,
        source_volume_id=vol.id,
        source_path=path.strip("/"),
        message=message,
        parents=parents,
        created_by=who.name,
        files_done=0,
        bytes_done=0,
        warnings=[],
    )
    db.add(v)
    db.flush()
    job = Job(kind="register", version_id=v.id, params={"mode": mode}, created_by=who.name)
    db.add(job)
    audit.record(db, who, "version.create", v.ref, volume=vol.id, path=path, mode=mode)
    db.commit()
    runner.submit(job.id)
    return v


def list_(
    db: Session, ds: Dataset, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Version], str | None]:
    stmt = select(Version).where(Version.dataset_id == ds.id)
    if status:
        stmt = stmt.where(Version.status == status)
    key = decode_cursor(cursor, 1)
    if key:
        stmt = stmt.where(Version.number < key[0])
    rows = list(db.scalars(stmt.order_by(Version.number.desc()).limit(limit + 1)))
    nxt = encode_cursor([rows[limit - 1].number]) if len(rows) > limit else None
    return rows[:limit], nxt


def aliases_for(db: Session, v: Version) -> list[str]:
    names = list(db.scalars(select(Alias.name).filter_by(dataset_id=v.dataset_id, number=v.number)))
    if datasets_mgr.latest_numbers(db, [v.dataset_id]).get(v.dataset_id) == v.number:
        names.insert(0, "latest")
    return names


def is_mounted(db: Session, v: Version) -> bool:
    return db.scalar(select(Mount.id).where(Mount.version_id == v.id).limit(1)) is not None


def manifest(
    layout: storage.StorageLayout, v: Version, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    if v.status not in ("ready", "drifted"):
        raise Conflict(f"version {v.ref} is {v.status}; its manifest exists once it is ready")
    entries, nxt = storage.read_manifest(
        layout.manifest_path(v.dataset_id, v.number), after=cursor, limit=limit
    )
    return {
        "ref": v.ref,
        "digest": v.digest,
        "files": v.files,
        "bytes": v.bytes,
        "items": [
            {"path": e.path, "size": e.size, "mode": f"{e.mode:o}", "digest": e.digest}
            for e in entries
        ],
        "next_cursor": nxt,
    }


def _usable(v: Version, what: str) -> None:
    if v.status not in ("ready", "drifted"):
        raise Conflict(f"version {v.ref} is {v.status}; only ready versions can be {what}")


def start_verify(db: Session, runner: JobRunner, who: Identity, v: Version) -> Job:
    _usable(v, "verified")
    job = Job(kind="verify", version_id=v.id, params={}, created_by=who.name)
    db.add(job)
    db.commit()
    runner.submit(job.id)
    return job


def start_restore(
    db: Session,
    runner: JobRunner,
    layout: storage.StorageLayout,
    who: Identity,
    v: Version,
    body: dict,
) -> Job:
    _usable(v, "restored")
    vol_id, path = body.get("volume_id"), body.get("path")
    if not isinstance(vol_id, str) or not isinstance(path, str) or not path.strip("/"):
        raise BadRequest('restore needs {"volume_id": "vol-…", "path": "a/new/directory"}')
    vol = db.get(Volume, vol_id)
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(f"no volume {vol_id!r} that you can use", reason="volume-not-found")
    dest = storage.confine(layout.volume_dir(vol.id), path, must_exist=False)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{path!r} already exists in {vol.name!r} and is not empty", reason="exists")
    job = Job(
        kind="restore",
        version_id=v.id,
        params={"volume_id": vol.id, "path": path.strip("/")},
        created_by=who.name,
    )
    db.add(job)
    audit.record(db, who, "version.restore", v.ref, volume=vol.id, path=path)
    db.commit()
    runner.submit(job.id)
    return job


def active_job(db: Session, v: Version) -> Job | None:
    return db.scalars(
        select(Job).where(
            Job.version_id == v.id,
            Job.kind == "register",
            Job.state.in_(("queued", "running", "cancelling")),
        )
    ).first()


def delete(
    db: Session,
    runner: JobRunner,
    layout: storage.StorageLayout,
    who: Identity,
    ds: Dataset,
    v: Version,
) -> str:
    """Cancel a version still being built, or delete a finished one. Returns what happened."""
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may delete versions of {ds.name!r}")
    job = active_job(db, v)
    if job is not None:
        runner.cancel(job.id)
        audit.record(db, who, "version.cancel", v.ref)
        db.commit()
        return "cancelling"
    if is_mounted(db, v):
        servers = sorted(set(db.scalars(select(Mount.server).where(Mount.version_id == v.id))))
        raise Conflict(
            f"version {v.ref} is mounted by {', '.join(servers)}; stop those servers first",
            reason="mounted",
        )
    if v.mode == "snapshot":
        storage.remove_version(layout, v.dataset_id, v.number)
    else:
        layout.manifest_path(v.dataset_id, v.number).unlink(missing_ok=True)
    for alias in db.scalars(select(Alias).filter_by(dataset_id=ds.id, number=v.number)):
        db.delete(alias)
    db.execute(update(Job).where(Job.version_id == v.id).values(version_id=None))
    db.delete(v)
    audit.record(db, who, "version.delete", v.ref)
    db.commit()
    return "deleted"


def delete_dataset(db: Session, layout: storage.StorageLayout, who: Identity, ds: Dataset) -> None:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may delete dataset {ds.name!r}")
    if datasets_mgr.mounted_numbers(db, ds.id):
        servers = sorted(
            set(
                db.scalars(
                    select(Mount.server)
                    .join(Version, Version.id == Mount.version_id)
                    .where(Version.dataset_id == ds.id)
                )
            )
        )
        raise Conflict(
            f"a version of {ds.name!r} is mounted by {', '.join(servers)}; stop those servers "
            "first",
            reason="mounted",
        )
    busy = db.scalar(
        select(Version.number).where(
            Version.dataset_id == ds.id, Version.status.in_(("pending", "processing"))
        )
    )
    if busy is not None:
        raise Conflict(f"version {busy} of {ds.name!r} is still processing; cancel it first")
    for v in list(ds.versions):
        if v.mode == "snapshot" and v.status in ("ready", "drifted"):
            storage.remove_version(layout, ds.id, v.number)
        layout.manifest_path(ds.id, v.number).unlink(missing_ok=True)
        db.execute(update(Job).where(Job.version_id == v.id).values(version_id=None))
    db.delete(ds)
    audit.record(db, who, "dataset.delete", ds.id, name=ds.name)
    db.commit()
