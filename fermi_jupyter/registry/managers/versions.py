"""Versions: register (→ a job), get, manifest, verify, restore, cancel, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Integer, Row, bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.ids import ID_RE
from ...domain.refs import parse_ref
from ...domain.states import IN_FLIGHT, JOB_ACTIVE, SETTLED, JobKind, Mode, VersionStatus
from ...domain.visibility import can_read, can_use_volume, can_write
from .. import audit, storage
from ..errors import BadRequest, Conflict, Forbidden, NotFound, Reason
from ..jobs import JobRunner
from ..orm import Alias, Dataset, Job, Mount, Version, Volume
from ..pagination import decode_cursor, encode_cursor, parse_int_id
from ..serialize import version_json
from . import datasets as datasets_mgr
from .statements import reused

MAX_PARENTS = 50


def select_version(db: Session, ds: Dataset, selector: str) -> Version:
    """A version of ``ds`` by number, ``latest`` (newest ready) or alias name."""
    if selector.isascii() and selector.isdigit():
        number: int | None = parse_int_id(selector)  # None for numbers no version can have
    elif selector == "latest":
        number = datasets_mgr.latest_numbers(db, [ds.id]).get(ds.id)
        if number is None:
            raise NotFound(f"dataset {ds.name!r} has no ready version yet", reason=Reason.no_ready)
    else:
        alias = db.get(Alias, (ds.id, selector))
        number = alias.number if alias else None
    v = (
        db.scalars(select(Version).filter_by(dataset_id=ds.id, number=number)).first()
        if number is not None
        else None
    )
    if v is None:
        raise NotFound(f"dataset {ds.name!r} has no version {selector!r}", reason=Reason.no_version)
    return v


def resolve_ref(db: Session, who: Identity, text: str) -> Version:
    try:
        ref = parse_ref(text)
    except ValueError as e:
        raise BadRequest(str(e), reason=Reason.invalid_ref) from None
    return select_version(db, datasets_mgr.resolve(db, who, ref.dataset), ref.selector)


def _parents(db: Session, who: Identity, value: list[str] | None) -> list[str]:
    """Lineage references (the body schema bounds their number and length), each resolved."""
    return sorted({resolve_ref(db, who, text).ref for text in value or []})


# a registration's statements, built once (the cache key memoized; see statements.py): its
# POST is what a registering client costs the process that also answers readers
_PREVIOUS_BYTES = (
    select(Version.bytes)
    .where(
        Version.dataset_id == bindparam("ds_id"),
        Version.status == VersionStatus.ready.value,
        Version.mode == Mode.snapshot.value,
        Version.source_volume_id == bindparam("vol_id"),
        Version.source_path == bindparam("path"),
    )
    .order_by(Version.number.desc())
    .limit(1)
)
_DATASETS = Dataset.__table__
# one atomic statement hands out the number, whatever else runs concurrently
_NEXT_NUMBER = (
    update(_DATASETS)
    .where(_DATASETS.c.id == bindparam("ds_id"))
    .values(next_version=_DATASETS.c.next_version + 1)
    .returning(_DATASETS.c.next_version)
)
_NEW_JOB = insert(Job.__table__).returning(Job.__table__.c.id)


def _check_space(
    db: Session,
    layout: storage.StorageLayout,
    ds: Dataset,
    vol: Volume,
    path: str,
    src_dir: Any,
    ignore: Any,
) -> None:
    """409 ``insufficient-space`` when a snapshot cannot fit in the store: the source
    (measured for a fraction of a second: a lower bound on big trees) less what the
    previous version of the same source already stored, against the free space."""
    if ignore not in (None, False, True):
        raise BadRequest("ignore_space_warning must be true or false")
    if ignore:
        return
    previous = db.scalar(
        _PREVIOUS_BYTES, {"ds_id": ds.id, "vol_id": vol.id, "path": path.strip("/")}
    )
    estimate = storage.estimate_space(layout.root, src_dir, savings=previous or 0)
    if not estimate.fits:
        raise Conflict(estimate.message(), reason="insufficient-space")


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
    mode = Mode(body.get("mode", Mode.snapshot.value)).value
    vol_id = body["volume_id"]
    vol = db.get(Volume, vol_id)
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(f"no volume {vol_id!r} that you can use", reason=Reason.volume_not_found)
    if vol.backend != "root":
        raise BadRequest(
            "only volumes on the platform storage can be registered from here",
            reason=Reason.not_browsable,
        )
    path = body.get("path", "")
    # refuse bad paths now, with a 4xx, rather than as a failed job later
    src_dir = storage.confine(layout.volume_dir(vol.id), path, kind="dir")
    if mode == Mode.snapshot.value:
        _check_space(db, layout, ds, vol, path, src_dir, body.get("ignore_space_warning"))
    parents = _parents(db, who, body.get("parents"))
    message = str(body.get("message") or "")[:2000]

    number = db.execute(_NEXT_NUMBER, {"ds_id": ds.id}).scalar_one() - 1
    v = Version(
        dataset_id=ds.id,
        number=number,
        status=VersionStatus.pending.value,
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
    # the job and the audit row without the unit of work: nothing reads them back here
    job_id = db.execute(
        _NEW_JOB,
        {
            "kind": JobKind.register.value,
            "version_id": v.id,
            "params": {"mode": mode},
            "created_by": who.name,
        },
    ).scalar_one()
    audit.insert_now(db, who, "version.create", v.ref, volume=vol.id, path=path, mode=mode)
    db.commit()
    runner.submit(job_id)
    return v


def _mounted_column():  # type: ignore[no-untyped-def]
    return select(Mount.id).where(Mount.version_id == Version.id).exists().label("mounted")


def _rows_select(dialect: str) -> Any:
    """Versions of the dataset ``:ds_id`` with mounted flag, alias names and the dataset's
    latest ready number: everything a page shows, in one statement."""
    names = (
        select(
            func.json_agg(Alias.name)
            if dialect == "postgresql"
            else func.json_group_array(Alias.name)
        )
        .where(Alias.dataset_id == Version.dataset_id, Alias.number == Version.number)
        .correlate(Version)
        .scalar_subquery()
        .label("alias_names")
    )
    return select(Version.__table__, _mounted_column(), names, _latest().label("latest")).where(
        Version.dataset_id == bindparam("ds_id")
    )


def _latest() -> Any:
    return (
        select(func.max(Version.number))
        .where(Version.dataset_id == bindparam("ds_id"), Version.status == VersionStatus.ready)
        .scalar_subquery()
    )


def _page_select(dialect: str, status: bool, before: bool) -> Any:
    stmt = _rows_select(dialect)
    if status:
        stmt = stmt.where(Version.status == bindparam("status"))
    if before:
        stmt = stmt.where(Version.number < bindparam("before"))
    return stmt.order_by(Version.number.desc()).limit(bindparam("limit", type_=Integer))


def _page_params(ds_id: str, status: str | None, limit: int, key: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"ds_id": ds_id, "limit": limit + 1}
    if status:
        params["status"] = status
    if key:
        params["before"] = key[0]
    return params


def _next(rows: list[Row], limit: int) -> str | None:
    return encode_cursor([rows[limit - 1].number]) if len(rows) > limit else None


def list_(
    db: Session, ds: Dataset | Row, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    """A page of ``ds``'s versions, newest first, as plain rows (see ``_rows_select``)."""
    key = decode_cursor(cursor, (int,))
    stmt = reused(
        db,
        ("versions.page", bool(status), bool(key)),
        lambda dialect: _page_select(dialect, bool(status), bool(key)),
    )
    params = _page_params(ds.id, status, limit, key)
    rows = db.connection().execute(stmt, params).all()  # one fetchall, not a fetch a row
    return rows[:limit], _next(rows, limit)


def page(
    db: Session, who: Identity, ref: str, *, status: str | None, limit: int, cursor: str | None
) -> tuple[Any, list[Row], str | None]:
    """``ref``'s dataset (as ``datasets.lookup`` finds it) and a page of its versions. By id,
    the common case, in one statement (see ``_with_dataset``)."""
    if not ID_RE.match(ref):
        ds = datasets_mgr.lookup(db, who, ref)
        return ds, *list_(db, ds, status=status, limit=limit, cursor=cursor)
    key = decode_cursor(cursor, (int,))
    stmt = reused(
        db,
        ("versions.page+dataset", bool(status), bool(key)),
        lambda dialect: _with_dataset(_page_select(dialect, bool(status), bool(key))),
    )
    rows = db.connection().execute(stmt, _page_params(ref, status, limit, key)).all()
    ds, rows = _split(who, ref, rows)
    return ds, rows[:limit], _next(rows, limit)


class DatasetOf(NamedTuple):
    """What a version read needs of its dataset: whom it is visible to, and its name."""

    id: str
    name: str
    owner: str
    team: str | None
    visibility: str


def _with_dataset(versions: Any) -> Any:
    """``versions`` (of the dataset ``:ds_id``) beside the dataset's ``DatasetOf`` columns,
    which every row repeats: one row with no version when it has none, none when there is no
    such dataset."""
    v = versions.subquery("v")
    d = Dataset.__table__
    mine = [d.c[c].label(f"d_{c}") for c in ("name", "owner", "team", "visibility")]
    return (
        select(*mine, v)
        .select_from(d.outerjoin(v, true()))
        .where(d.c.id == bindparam("ds_id"))
        .order_by(v.c.number.desc())
    )


def _split(who: Identity, ref: str, rows: Sequence[Row]) -> tuple[DatasetOf, list[Row]]:
    """The dataset, checked readable as ``datasets.lookup`` checks it, and the version rows."""
    if not rows:
        raise datasets_mgr.not_found(ref)
    first = rows[0]
    ds = DatasetOf(ref, first.d_name, first.d_owner, first.d_team, first.d_visibility)
    if not can_read(who, ds):
        raise datasets_mgr.not_found(ref)
    return ds, [r for r in rows if r.id is not None]


def _selector(selector: str) -> tuple[str, dict[str, Any]]:
    """The kind of a version selector and its parameters; ``number`` None: no such version."""
    if selector.isdigit():
        return "number", {"number": parse_int_id(selector)}
    if selector == "latest":
        return "latest", {}
    return "alias", {"alias": selector}


def _one_select(dialect: str, kind: str) -> Any:
    number: Any = {
        "number": bindparam("number"),
        "latest": _latest(),
        "alias": select(Alias.number)
        .where(Alias.dataset_id == bindparam("ds_id"), Alias.name == bindparam("alias"))
        .scalar_subquery(),
    }[kind]
    return _rows_select(dialect).where(Version.number == number)


def _missing(ds: Any, selector: str) -> NotFound:
    if selector == "latest":
        return NotFound(f"dataset {ds.name!r} has no ready version yet", reason=Reason.no_ready)
    return NotFound(f"dataset {ds.name!r} has no version {selector!r}", reason=Reason.no_version)


def read(db: Session, ds: Dataset | Row | DatasetOf, selector: str) -> Row:
    """One version of ``ds`` by number, ``latest`` or alias, as a row like ``list_``'s."""
    kind, params = _selector(selector)
    if kind == "number" and params["number"] is None:  # no version can have it
        raise _missing(ds, selector)
    params["ds_id"] = ds.id
    stmt = reused(db, ("versions.one", kind), lambda dialect: _one_select(dialect, kind))
    row = db.connection().execute(stmt, params).first()
    if row is None:
        raise _missing(ds, selector)
    return row


def read_one(db: Session, who: Identity, ref: str, selector: str) -> tuple[Any, Row]:
    """``ref``'s dataset (as ``datasets.lookup`` finds it) and its version ``selector``. By
    id, the common case, in one statement (see ``_with_dataset``)."""
    kind, params = _selector(selector)
    if not ID_RE.match(ref) or (kind == "number" and params["number"] is None):
        ds = datasets_mgr.lookup(db, who, ref)
        return ds, read(db, ds, selector)
    params["ds_id"] = ref
    stmt = reused(
        db,
        ("versions.one+dataset", kind),
        lambda dialect: _with_dataset(_one_select(dialect, kind)),
    )
    ds, rows = _split(who, ref, db.connection().execute(stmt, params).all())
    if not rows:
        raise _missing(ds, selector)
    return ds, rows[0]


def to_json(db: Session, ds: Dataset | Row, rows: list[Any]) -> list[dict[str, Any]]:
    """Versions of ``ds`` as the API shows them. Rows from ``list_``/``read`` carry their
    aliases, ``latest`` and ``mounted``; ORM objects (just written) cost three queries."""
    if not rows:
        return []
    if isinstance(rows[0], Row):
        out = []
        for v in rows:
            names = sorted(datasets_mgr._json_value(v.alias_names) or [])
            if v.latest == v.number:
                names.insert(0, "latest")
            out.append(version_json(v, dataset_name=ds.name, aliases=names, mounted=v.mounted))
        return out
    numbers = [v.number for v in rows]
    by_number: dict[int, list[str]] = {n: [] for n in numbers}
    stmt = select(Alias.number, Alias.name).where(
        Alias.dataset_id == ds.id, Alias.number.in_(numbers)
    )
    for number, name in db.execute(stmt.order_by(Alias.name)):
        by_number[number].append(name)
    latest = datasets_mgr.latest_numbers(db, [ds.id]).get(ds.id)
    if latest in by_number:
        by_number[latest].insert(0, "latest")
    ids = [v.id for v in rows]
    mounted_ids = set(db.scalars(select(Mount.version_id).where(Mount.version_id.in_(ids))))
    return [
        version_json(
            v, dataset_name=ds.name, aliases=by_number[v.number], mounted=v.id in mounted_ids
        )
        for v in rows
    ]


def registered_json(ds: Dataset, v: Version) -> dict[str, Any]:
    """A version ``register`` has just made, with no query: its number is new (never given
    before, so no alias names it), it is pending (so neither ``latest`` nor mountable)."""
    return version_json(v, dataset_name=ds.name, aliases=[], mounted=False)


def is_mounted(db: Session, v: Version) -> bool:
    return db.scalar(select(Mount.id).where(Mount.version_id == v.id).limit(1)) is not None


def manifest(
    layout: storage.StorageLayout, v: Version, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    if v.status not in SETTLED:
        raise Conflict(
            f"version {v.ref} is {v.status}; its manifest exists once it is ready",
            reason=Reason.not_ready,
        )
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
    if v.status not in SETTLED:
        raise Conflict(
            f"version {v.ref} is {v.status}; only ready versions can be {what}",
            reason=Reason.not_ready,
        )


def start_verify(db: Session, runner: JobRunner, who: Identity, v: Version) -> Job:
    _usable(v, "verified")
    job = Job(kind=JobKind.verify.value, version_id=v.id, params={}, created_by=who.name)
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
    vol_id, path = body["volume_id"], body["path"]
    if not path.strip("/"):
        raise BadRequest(
            'restore needs {"volume_id": "vol-…", "path": "a/new/directory"}',
            reason=Reason.path_refused,
        )
    vol = db.get(Volume, vol_id)
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(f"no volume {vol_id!r} that you can use", reason=Reason.volume_not_found)
    dest = storage.confine(layout.volume_dir(vol.id), path, must_exist=False)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(
            f"{path!r} already exists in {vol.name!r} and is not empty", reason=Reason.exists
        )
    job = Job(
        kind=JobKind.restore.value,
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
            Job.kind == JobKind.register,
            Job.state.in_(JOB_ACTIVE),
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
            reason=Reason.mounted,
        )
    if v.mode == Mode.snapshot:
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
            reason=Reason.mounted,
        )
    busy = db.scalar(
        select(Version.number).where(Version.dataset_id == ds.id, Version.status.in_(IN_FLIGHT))
    )
    if busy is not None:
        raise Conflict(
            f"version {busy} of {ds.name!r} is still processing; cancel it first",
            reason=Reason.busy,
        )
    for v in list(ds.versions):
        if v.mode == Mode.snapshot and v.status in SETTLED:
            storage.remove_version(layout, ds.id, v.number)
        layout.manifest_path(ds.id, v.number).unlink(missing_ok=True)
        db.execute(update(Job).where(Job.version_id == v.id).values(version_id=None))
    db.delete(ds)
    audit.record(db, who, "dataset.delete", ds.id, name=ds.name)
    db.commit()
