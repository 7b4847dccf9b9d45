"""Volumes: create, list, get, and browse their files."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.ids import check_name, new_id
from ...domain.visibility import can_use_volume
from .. import audit, storage
from ..errors import BadRequest, Conflict, NotFound, Reason
from ..orm import Volume
from ..pagination import decode_cursor, encode_cursor
from ..units import parse_size
from .access import usable_volumes

ACCESS_MODES = ("ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany")


class UsageCache:
    """Volume usage (du) is costly on big trees: compute in the background, serve the last value.

    How long a value is served depends on what it cost: ``cost_factor`` times the time its
    walk took, between ``min_ttl`` and ``ttl``. A volume of a few thousand files is walked in
    milliseconds and its usage bar follows what its owner writes within seconds; one of
    millions is walked at most once a minute per process. A stale figure whose last walk took
    under ``inline_below`` seconds (a few hundred files) is recounted before it is served,
    so the next look shows what is there now, not what was."""

    def __init__(
        self,
        ttl: float = 60.0,
        min_ttl: float = 2.0,
        cost_factor: float = 100.0,
        inline_below: float = 0.005,
    ):
        self.ttl = ttl
        self.min_ttl = min(min_ttl, ttl)
        self.cost_factor = cost_factor
        self.inline_below = inline_below
        self._values: dict[str, dict[str, Any]] = {}
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def get(
        self, vol_id: str, path: Path, *, wait: bool = False, max_age: float | None = None
    ) -> dict[str, Any] | None:
        """The last usage figure; recomputed in the background when older than the TTL (or in
        this thread, when ``wait`` or when it is cheap; call this from an executor, not the
        event loop)."""
        with self._lock:
            value = self._values.get(vol_id)
            if max_age is None and value is not None:
                max_age = self._max_age(value["_cost"])
            fresh = value and time.time() - value["_t"] < (max_age or 0.0)
            start = not fresh and vol_id not in self._busy
            if start:
                self._busy.add(vol_id)
        if start:
            if wait or (value is not None and value["_cost"] < self.inline_below):
                self._compute(vol_id, path)
            else:
                threading.Thread(target=self._compute, args=(vol_id, path), daemon=True).start()
        value = self._values.get(vol_id)
        return {k: v for k, v in value.items() if not k.startswith("_")} if value else None

    def _max_age(self, cost: float) -> float:
        """How long a figure that took ``cost`` seconds to count is served."""
        return min(self.ttl, max(self.min_ttl, self.cost_factor * cost))

    def _compute(self, vol_id: str, path: Path) -> None:
        try:
            t0 = time.monotonic()
            used, files = storage.disk_usage(path) if path.is_dir() else (0, 0)
            cost = time.monotonic() - t0
            with self._lock:
                self._values[vol_id] = {
                    "bytes": used,
                    "files": files,
                    "computed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "_t": time.time(),
                    "_cost": cost,
                }
        finally:
            with self._lock:
                self._busy.discard(vol_id)

    def forget(self, vol_id: str) -> None:
        with self._lock:
            self._values.pop(vol_id, None)


def create(db: Session, layout: storage.StorageLayout, who: Identity, body: dict) -> Volume:
    try:
        name = check_name(body.get("name"), "volume name")
    except ValueError as e:
        raise BadRequest(str(e), reason=Reason.invalid_name) from None
    # types and enums are checked by the body schema (VolumeCreate) before this runs
    vtype = body.get("type") or "ssd"
    access_mode = body.get("access_mode") or (
        "ReadWriteMany" if vtype == "shared" else "ReadWriteOnce"
    )
    team = body.get("team") or None
    if team and not (who.admin or team in who.groups):
        raise BadRequest(f"you are not a member of team {team!r}", reason=Reason.not_in_team)
    backend = body.get("backend") or "root"
    if backend == "pvc" and not body.get("pvc_name"):
        raise BadRequest("a pvc volume needs pvc_name", reason=Reason.invalid_body)
    vol = Volume(
        id=new_id("vol"),
        name=name,
        owner=who.name,
        team=team,
        description=str(body.get("description") or "")[:2000],
        capacity_bytes=parse_size(body.get("capacity") or "100Gi"),
        type=vtype,
        access_mode=access_mode,
        zone=body.get("zone") or None,
        backend=backend,
        pvc_name=body.get("pvc_name") or None,
    )
    db.add(vol)
    audit.record(db, who, "volume.create", vol.id, name=name)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"you already have a volume named {name!r}", reason=Reason.exists) from None
    if backend == "root":
        layout.volume_dir(vol.id).mkdir(parents=True, exist_ok=True)
    db.commit()
    return vol


def get(db: Session, who: Identity, vol_id: str) -> Volume:
    vol = db.get(Volume, vol_id)
    if vol is None or not can_use_volume(who, vol):
        raise NotFound(f"no volume {vol_id!r} that you can use", reason=Reason.volume_not_found)
    return vol


def list_(
    db: Session, who: Identity, *, q: str | None, limit: int, cursor: str | None
) -> tuple[list[Volume], str | None]:
    stmt = select(Volume).where(usable_volumes(who))
    if q:
        stmt = stmt.where(Volume.name.icontains(q, autoescape=True))
    key = decode_cursor(cursor, (str, str))
    if key:
        stmt = stmt.where(tuple_(Volume.name, Volume.id) > tuple(key))
    rows = list(db.scalars(stmt.order_by(Volume.name, Volume.id).limit(limit + 1)))
    nxt = encode_cursor([rows[limit - 1].name, rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], nxt


def root_of(layout: storage.StorageLayout, vol: Volume) -> Path:
    if vol.backend != "root":
        raise BadRequest(
            f"volume {vol.name!r} is a PVC: browse it from a server that mounts it",
            reason=Reason.not_browsable,
        )
    return layout.volume_dir(vol.id)


def tree(
    layout: storage.StorageLayout,
    vol: Volume,
    *,
    path: str,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    entries, nxt, truncated = storage.list_dir(
        root_of(layout, vol), path, q=q or None, limit=limit, cursor=cursor
    )
    return {
        "volume_id": vol.id,
        "path": path,
        "items": [
            {"name": e.name, "path": e.path, "type": e.type, "size": e.size, "mtime": e.mtime}
            for e in entries
        ],
        "next_cursor": nxt,
        "truncated": truncated,
    }
