"""What changed between two versions (from their stored manifests, no file is read again), and
which versions a version was made from and which were made from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.refs import parse_ref
from ...domain.states import SETTLED, VersionStatus
from ...domain.visibility import can_read
from .. import storage
from ..errors import BadRequest, Conflict, Reason
from ..orm import Dataset, Version
from . import datasets as datasets_mgr
from . import versions as versions_mgr

MAX_LIST = 10_000
MAX_CHILDREN = 200
SETTLED_VALUES = {s.value for s in SETTLED}


def against(db: Session, who: Identity, ds: Dataset, text: str) -> Version:
    """The base of a diff: a selector of ``ds`` (``1``, ``latest``, an alias) or ``NAME@N``."""
    text = (text or "").strip()
    if not text:
        raise BadRequest(
            "against is required: a version number or NAME@N", reason=Reason.invalid_ref
        )
    if "@" in text:
        return versions_mgr.resolve_ref(db, who, text)
    try:
        parse_ref(f"x@{text}")
    except ValueError as e:
        raise BadRequest(str(e), reason=Reason.invalid_ref) from None
    return versions_mgr.select_version(db, ds, text)


def _entries(layout: storage.StorageLayout, v: Version) -> Iterator[storage.ManifestEntry]:
    if v.status not in SETTLED_VALUES:
        raise Conflict(
            f"version {v.ref} is {v.status}; it has a manifest once it is ready",
            reason=Reason.not_ready,
        )
    return storage.iter_manifest(layout.manifest_path(v.dataset_id, v.number))


def diff(layout: storage.StorageLayout, base: Version, target: Version, limit: int) -> dict:
    """A merge of the two manifests (both in tree order): one pass, constant memory."""
    if not 1 <= limit <= MAX_LIST:
        raise BadRequest(f"limit must be between 1 and {MAX_LIST}")
    added: list[dict] = []
    removed: list[dict] = []
    changed: list[dict] = []
    counts = {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
    sizes = {"added": 0, "removed": 0, "changed_before": 0, "changed_after": 0}
    old, new = _entries(layout, base), _entries(layout, target)
    a, b = next(old, None), next(new, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.key < b.key):
            counts["removed"] += 1
            sizes["removed"] += a.size
            if len(removed) < limit:
                removed.append({"path": a.path, "size": a.size})
            a = next(old, None)
        elif a is None or b.key < a.key:
            counts["added"] += 1
            sizes["added"] += b.size
            if len(added) < limit:
                added.append({"path": b.path, "size": b.size})
            b = next(new, None)
        else:
            if a.digest != b.digest or a.size != b.size:
                counts["changed"] += 1
                sizes["changed_before"] += a.size
                sizes["changed_after"] += b.size
                if len(changed) < limit:
                    changed.append({"path": b.path, "size_before": a.size, "size_after": b.size})
            else:
                counts["unchanged"] += 1
            a, b = next(old, None), next(new, None)
    truncated = any(counts[k] > limit for k in ("added", "removed", "changed"))
    return {
        "base": base.ref,
        "target": target.ref,
        "added": added,
        "removed": removed,
        "changed": changed,
        "counts": counts,
        "bytes": sizes,
        "truncated": truncated,
    }


def _node(v: Version | None, ref: str, who: Identity) -> dict[str, Any]:
    ds_id, _, number = ref.partition("@")
    ds = v.dataset if v is not None else None
    visible = v is not None and ds is not None and can_read(who, ds)
    return {
        "ref": ref,
        "label": f"{ds.name}@{number}" if visible and ds is not None else ref,
        "dataset_id": ds_id,
        "dataset_name": ds.name if visible and ds is not None else None,
        "owner": ds.owner if visible and ds is not None else None,
        "number": int(number) if number.isdigit() else 0,
        "status": VersionStatus(v.status).value if visible and v is not None else None,
        "visible": visible,
    }


def lineage(db: Session, who: Identity, v: Version) -> dict:
    """Parents as recorded at registration (shown by ref only where you may not see them), and
    the versions you can see that name this one as a parent."""
    parents = []
    for ref in v.parents or []:
        ds_id, _, number = ref.partition("@")
        pv = (
            db.scalars(select(Version).filter_by(dataset_id=ds_id, number=int(number))).first()
            if number.isdigit()
            else None
        )
        parents.append(_node(pv, ref, who))
    stmt = (
        select(Version)
        .join(Dataset, Dataset.id == Version.dataset_id)
        .where(cast(Version.parents, String).like(f'%"{v.ref}"%'))
        .where(datasets_mgr.readable_datasets(who))
        .order_by(Version.dataset_id, Version.number)
        .limit(MAX_CHILDREN)
    )
    children = [_node(c, c.ref, who) for c in db.scalars(stmt)]
    # an imported version also came from outside: "huggingface:owner/repo@sha" (transfers)
    source = (v.provenance or {}).get("source")
    return {
        "version": _node(v, v.ref, who),
        "parents": parents,
        "children": children,
        "source": source,
    }
