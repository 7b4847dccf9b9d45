"""Transfers: create (→ a ``transfer`` job), list, get, cancel, read the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.ids import check_name, new_id
from ...domain.visibility import can_use_volume, can_write
from ...transfers import spec as specmod
from ...transfers.errors import SpecError
from .. import audit, bodies, storage
from .. import credentials as creds
from ..errors import BadRequest, Conflict, NotFound, Reason
from ..jobs import JobRunner
from ..managers import datasets as datasets_mgr
from ..managers import versions as versions_mgr
from ..managers import volumes as volumes_mgr
from ..orm import Dataset, Job, Volume, utcnow
from ..pagination import decode_cursor, encode_cursor
from ..units import parse_size
from .models import Credential, Transfer

ACTIVE = ("pending", "running")
LOG_LIMIT = 256 * 1024


def log_path(layout: storage.StorageLayout, transfer_id: str) -> Path:
    return layout.root / "transfers" / f"{transfer_id}.log"


def _volume(db: Session, layout: storage.StorageLayout, who: Identity, local: dict) -> Volume:
    if "create_volume" in local:
        body = dict(local["create_volume"])
        vol = volumes_mgr.create(db, layout, who, body)
        local["volume_id"] = vol.id
        del local["create_volume"]
        return vol
    vol = db.get(Volume, local["volume_id"])
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(
            f"no volume {local['volume_id']!r} that you can use", reason="volume-not-found"
        )
    return vol


def _check_local(
    db: Session, layout: storage.StorageLayout, who: Identity, spec: dict
) -> Volume | None:
    local = specmod.local_of(spec)
    if local["type"] == "dataset":
        v = versions_mgr.resolve_ref(db, who, local["version"])
        if v.status not in ("ready", "drifted"):
            raise Conflict(f"version {v.ref} is {v.status}; only ready versions can be uploaded")
        local["version"] = v.ref
        return None
    # a volume created in this request is created last, once everything else checked out
    if "create_volume" not in local:
        vol = _volume(db, layout, who, local)
        if vol.backend != "root":
            raise BadRequest(
                f"volume {vol.name!r} is a PVC of its own: transfers reach only volumes on the "
                "platform's storage (create one there, then copy or register from it)",
                reason="not-browsable",
            )
        must_exist = spec["direction"] == "upload"
        storage.confine(layout.volume_dir(vol.id), local["path"], must_exist=must_exist)
        return vol
    return None


def _check_new_volume(local: dict[str, Any]) -> None:
    """A volume made by the request: the fields of ``POST /volumes`` (the same schema, so a bad
    type or size is refused as it is there), on the platform storage — a transfer writes into
    it here, so a PVC volume cannot be made this way."""
    new = local["create_volume"]
    error = best_match(bodies.validator("VolumeCreate").iter_errors(new))
    if error is not None:
        root = error
        while root.parent is not None:
            root = root.parent
        root.path.extendleft(["create_volume", "sink"])  # → sink.create_volume.<field>
        raise BadRequest(bodies.describe(error), reason=Reason.invalid_transfer)
    if new.get("backend", "root") != "root" or new.get("pvc_name"):
        raise BadRequest(
            "sink.create_volume: a transfer creates volumes on the platform storage only "
            "(no backend or pvc_name)",
            reason=Reason.invalid_transfer,
        )
    try:
        check_name(new["name"], "name")
        parse_size(new.get("capacity") or "100Gi")
    except (ValueError, BadRequest) as e:
        raise BadRequest(
            f"sink.create_volume.{getattr(e, 'message', e)}", reason=Reason.invalid_transfer
        ) from None


def _check_dataset(db: Session, who: Identity, target: dict[str, Any]) -> None:
    if target.get("id"):
        ds = datasets_mgr.resolve(db, who, target["id"])
        if not can_write(who, ds):
            raise BadRequest(f"only {ds.owner} may add versions to {ds.name!r}", reason="forbidden")
        target["id"] = ds.id
        return
    taken = db.scalars(
        select(Dataset.id).where(Dataset.owner == who.name, Dataset.name == target["name"])
    ).first()
    if taken:
        raise Conflict(
            f"you already have a dataset named {target['name']!r}; import as a new version of "
            f'it with "dataset": {{"id": "{taken}"}}',
            reason="exists",
        )


def create(
    db: Session,
    runner: JobRunner,
    layout: storage.StorageLayout,
    who: Identity,
    body: Any,
    *,
    allow_loopback: bool,
) -> Transfer:
    try:
        spec = specmod.validate(body, allow_loopback=allow_loopback)
    except SpecError as e:
        raise BadRequest(e.message, reason="invalid-transfer") from None
    remote = specmod.remote_of(spec)
    cred: Credential | None = None
    if remote.get("credential"):
        cred = creds.get(db, who, remote["credential"])
        tool = remote["type"]
        if cred.type != tool:
            raise BadRequest(
                f"credential {cred.name!r} is a {cred.type} credential; "
                f"this transfer needs a {tool} one",
                reason="credential-type",
            )
    local = specmod.local_of(spec)
    if "create_volume" in local:
        _check_new_volume(local)
    vol = _check_local(db, layout, who, spec)
    if "dataset" in spec:
        _check_dataset(db, who, spec["dataset"])
    if "create_volume" in local:
        vol = _volume(db, layout, who, local)  # commits the new volume
        storage.confine(layout.volume_dir(vol.id), local["path"], must_exist=False)
    transfer = Transfer(
        id=new_id("tr"),
        owner=who.name,
        name=spec.get("name"),
        direction=spec["direction"],
        tool=remote["type"],
        spec=spec,
        credential_id=cred.id if cred else None,
        volume_id=vol.id if vol else None,
        state="pending",
        conditions=[],
        attempts=[],
        files_done=0,
        bytes_done=0,
    )
    db.add(transfer)
    job = Job(kind="transfer", params={"transfer_id": transfer.id}, created_by=who.name)
    db.add(job)
    db.flush()
    transfer.job_id = job.id
    audit.record(
        db,
        who,
        "transfer.create",
        transfer.id,
        direction=spec["direction"],
        remote=specmod.describe(remote),
        volume=transfer.volume_id,
        credential=remote.get("credential"),
    )
    db.commit()
    runner.submit(job.id)
    return transfer


def get(db: Session, who: Identity, transfer_id: str) -> Transfer:
    t = db.get(Transfer, transfer_id)
    if t is None or not (who.admin or t.owner == who.name):
        raise NotFound(f"no transfer {transfer_id} of yours", reason="transfer-not-found")
    return t


def list_(
    db: Session,
    who: Identity,
    *,
    state: str | None,
    volume_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Transfer], str | None]:
    stmt = select(Transfer)
    if not who.admin:
        stmt = stmt.where(Transfer.owner == who.name)
    if state:
        stmt = stmt.where(Transfer.state == state)
    if volume_id:
        stmt = stmt.where(Transfer.volume_id == volume_id)
    key = decode_cursor(cursor, 2)
    if key:
        stmt = stmt.where(
            (Transfer.created_at < key[0])
            | ((Transfer.created_at == key[0]) & (Transfer.id < key[1]))
        )
    rows = list(
        db.scalars(stmt.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(limit + 1))
    )
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor([last.created_at.isoformat(), last.id])
    return rows[:limit], nxt


def cancel(db: Session, runner: JobRunner, who: Identity, t: Transfer) -> Transfer:
    if t.state not in ACTIVE:
        raise Conflict(
            f"transfer {t.id} is {t.state}; only pending or running ones can be cancelled"
        )
    if t.job_id is not None:
        runner.cancel(t.job_id)
    if t.state == "pending":  # no attempt started: nothing to kill or clean
        from .service import set_condition

        t.state, t.reason, t.error, t.finished_at = "cancelled", "cancelled", "cancelled", utcnow()
        t.conditions = set_condition(t.conditions or [], "Failed", True, "cancelled")
    audit.record(db, who, "transfer.cancel", t.id)
    db.commit()
    db.expire_all()
    return db.get(Transfer, t.id)  # type: ignore[return-value]


def read_log(layout: storage.StorageLayout, t: Transfer, offset: int) -> dict[str, Any]:
    path = log_path(layout, t.id)
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            start = max(0, min(offset, size))
            if size - start > LOG_LIMIT:
                start = size - LOG_LIMIT
            f.seek(start)
            data = f.read()
    except FileNotFoundError:
        size, start, data = 0, 0, b""
    return {
        "id": t.id,
        "offset": start,
        "next_offset": start + len(data),
        "text": data.decode(errors="replace"),
    }


def mark_finished(t: Transfer, state: str) -> None:
    t.state = state
    t.finished_at = utcnow()
