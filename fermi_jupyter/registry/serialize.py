"""The JSON shapes of the REST API, in one place.

Each function takes an ORM object or a plain row with the same column names (list endpoints
select rows with SQLAlchemy Core: no ORM instances to build for a page).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson

from ..domain.mounts import dataset_source, volume_source
from ..domain.states import VOLUME_TYPES
from .orm import AuditEvent, Dataset, Job, Version, Volume

_ISO = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC  # SQLite hands timestamps back without a zone


def iso(dt: datetime | None) -> str | None:
    """UTC timestamps with a Z (SQLite hands them back without a time zone)."""
    if dt is None:
        return None
    # orjson's formatter: a third of isoformat's cost, and every list row has two of them
    return orjson.dumps(dt, option=_ISO)[1:-1].decode()


def progress_json(obj: Version | Job) -> dict[str, Any]:
    return {
        "files_done": obj.files_done,
        "files_total": obj.files_total,
        "bytes_done": obj.bytes_done,
        "bytes_total": obj.bytes_total,
        "phase": obj.phase,
    }


def volume_json(v: Volume, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": v.id,
        "name": v.name,
        "owner": v.owner,
        "team": v.team,
        "description": v.description,
        "capacity_bytes": v.capacity_bytes,
        "type": v.type,
        "type_hint": VOLUME_TYPES.get(v.type, ""),
        "access_mode": v.access_mode,
        "zone": v.zone,
        "backend": v.backend,
        "pvc_name": v.pvc_name,
        "storage_path": volume_source(v.id) if v.backend == "root" else None,
        "created_at": iso(v.created_at),
        "usage": usage,
    }


def dataset_json(
    d: Dataset, *, latest: int | None = None, aliases: dict[str, int] | None = None
) -> dict[str, Any]:
    return _dataset(
        d.id, d.name, d.owner, d.team, d.visibility, d.data_type, d.description, d.zone,
        d.tags, latest, aliases, d.created_at, d.updated_at,
    )  # fmt: skip


_DATASET_COLUMNS = (
    "id", "name", "owner", "team", "visibility", "data_type", "description", "zone", "tags",
    "latest", "aliases", "created_at", "updated_at",
)  # fmt: skip


def dataset_rows_json(rows: Sequence[Any], parse: Any) -> list[dict[str, Any]]:
    """``dataset_json`` for a page of Core rows that carry ``latest`` and ``aliases``: the
    columns are picked by position, found once per page (a row's attribute lookups cost ten
    times as much, and a page has fifty rows). ``parse`` turns the aliases aggregate into a
    dict."""
    if not rows:
        return []
    fields = rows[0]._fields  # (a new tuple at every access)
    pick = itemgetter(*(fields.index(c) for c in _DATASET_COLUMNS))
    out = []
    for row in rows:
        *head, aliases, made, updated = pick(row)
        out.append(_dataset(*head, parse(aliases), made, updated))
    return out


def _dataset(
    id_: str, name: str, owner: str, team: str | None, visibility: str, data_type: str | None,
    description: str | None, zone: str | None, tags: list[str] | None, latest: int | None,
    aliases: dict[str, int] | None, created_at: datetime | None, updated_at: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": id_,
        "name": name,
        "owner": owner,
        "team": team,
        "visibility": visibility,
        "data_type": data_type,
        "description": description,
        "zone": zone,
        "tags": list(tags or []),
        "latest": latest,
        "aliases": aliases or {},
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def version_storage_path(v: Version) -> str | None:
    """Where the version's files live, relative to the storage root (for mounts)."""
    if v.mode == "snapshot":
        return dataset_source(v.dataset_id, v.number)
    if v.source_volume_id:
        return volume_source(v.source_volume_id, v.source_path)
    return None


def version_json(
    v: Version,
    *,
    dataset_name: str | None = None,
    aliases: list[str] | None = None,
    mounted: bool | None = None,
) -> dict[str, Any]:
    if dataset_name is None and isinstance(v, Version) and v.dataset is not None:
        dataset_name = v.dataset.name
    return {
        "dataset_id": v.dataset_id,
        "dataset_name": dataset_name,
        "number": v.number,
        "ref": f"{v.dataset_id}@{v.number}",
        "status": v.status,
        "mode": v.mode,
        "source": {"volume_id": v.source_volume_id, "path": v.source_path},
        "message": v.message,
        "error": v.error,
        "progress": progress_json(v),
        "files": v.files,
        "bytes": v.bytes,
        "new_bytes": v.new_bytes,
        "digest": v.digest,
        "warnings": list(v.warnings or []),
        "parents": list(v.parents or []),
        "provenance": v.provenance,
        "aliases": aliases or [],
        "mounted": mounted,
        "storage_path": version_storage_path(v),
        "created_by": v.created_by,
        "created_at": iso(v.created_at),
        "ready_at": iso(v.ready_at),
        "verified_at": iso(v.verified_at),
    }


def job_json(j: Job, version_ref: str | None = None) -> dict[str, Any]:
    return {
        "id": j.id,
        "kind": j.kind,
        "state": j.state,
        "version": version_ref,
        "params": j.params,
        "result": j.result,
        "error": j.error,
        "attempts": j.attempts,
        "progress": progress_json(j),
        "history": job_history(j),
        "created_by": j.created_by,
        "created_at": iso(j.created_at),
        "started_at": iso(j.started_at),
        "finished_at": iso(j.finished_at),
    }


def job_history(j: Job) -> list[dict[str, Any]]:
    """What happened to a job, oldest first, starting with its creation."""
    queued = {"at": iso(j.created_at), "event": "queued", "message": "waiting for a worker"}
    return [queued, *(j.history or [])]


def audit_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "detail": e.detail,
    }
