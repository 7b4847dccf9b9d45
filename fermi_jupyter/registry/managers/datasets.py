"""Datasets: create, search, get, update metadata (tags, visibility), delete, aliases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, or_, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.ids import ID_RE, check_name, new_id
from ...domain.refs import check_alias
from ...domain.states import DATA_TYPES
from ...domain.visibility import Visibility, can_read, can_write
from .. import audit
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..orm import Alias, Dataset, DatasetTag, Mount, Version
from ..pagination import decode_cursor, encode_cursor
from .access import readable_datasets

SCOPES = ("all", "mine", "team", "org", "public")
MAX_TAGS = 20


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadRequest('tags must be a list of strings, e.g. ["清洗", "生产"]')
    tags = sorted({t.strip() for t in value if t.strip()})
    if len(tags) > MAX_TAGS or any(len(t) > 64 for t in tags):
        raise BadRequest(f"at most {MAX_TAGS} tags of at most 64 characters each")
    return tags


def _visibility(who: Identity, body: dict, current_team: str | None) -> tuple[str, str | None]:
    try:
        vis = Visibility.parse(body.get("visibility", "private")).value
    except ValueError as e:
        raise BadRequest(str(e), reason="invalid-visibility") from None
    team = body.get("team", current_team) or None
    if vis == "team":
        if not team:
            raise BadRequest("team visibility needs a team (one of your JupyterHub groups)")
        if not (who.admin or team in who.groups):
            raise BadRequest(f"you are not a member of team {team!r}", reason="not-in-team")
    return vis, team


def create(db: Session, who: Identity, body: dict) -> Dataset:
    try:
        name = check_name(body.get("name"), "dataset name")
    except ValueError as e:
        raise BadRequest(str(e), reason="invalid-name") from None
    data_type = body.get("data_type", "mixed")
    if data_type not in DATA_TYPES:
        raise BadRequest(f"data_type must be one of {', '.join(DATA_TYPES)}")
    vis, team = _visibility(who, body, None)
    tags = _tags(body.get("tags"))
    ds = Dataset(
        id=new_id("ds"),
        name=name,
        owner=who.name,
        team=team,
        visibility=vis,
        data_type=data_type,
        description=str(body.get("description") or "")[:10000],
        zone=body.get("zone") or None,
        tags=tags,
        next_version=1,
    )
    ds.tag_rows = [DatasetTag(tag=t) for t in tags]
    db.add(ds)
    audit.record(db, who, "dataset.create", ds.id, name=name, visibility=vis)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"you already have a dataset named {name!r}", reason="exists") from None
    return ds


def resolve(db: Session, who: Identity, ref: str) -> Dataset:
    """A dataset by id, by ``owner/name`` or by name (yours first, else the one visible match)."""
    if ID_RE.match(ref):
        ds = db.get(Dataset, ref)
        candidates = [ds] if ds else []
    elif "/" in ref:
        owner, _, name = ref.partition("/")
        candidates = list(db.scalars(select(Dataset).filter_by(owner=owner, name=name)))
    else:
        mine = db.scalars(select(Dataset).filter_by(owner=who.name, name=ref)).first()
        candidates = (
            [mine]
            if mine
            else list(
                db.scalars(
                    select(Dataset).where(Dataset.name == ref, readable_datasets(who)).limit(3)
                )
            )
        )
    candidates = [d for d in candidates if can_read(who, d)]
    if not candidates:
        raise NotFound(f"no dataset {ref!r} that you can see", reason="dataset-not-found")
    if len(candidates) > 1:
        owners = ", ".join(f"{d.owner}/{d.name}" for d in candidates)
        raise BadRequest(f"{ref!r} is ambiguous ({owners}): use owner/name or the id")
    return candidates[0]


def writable(db: Session, who: Identity, ref: str) -> Dataset:
    ds = resolve(db, who, ref)
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may change dataset {ds.name!r}")
    return ds


def list_(
    db: Session,
    who: Identity,
    *,
    q: str | None = None,
    scope: str = "all",
    owner: str | None = None,
    tag: str | None = None,
    data_type: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[Dataset], str | None]:
    if scope not in SCOPES:
        raise BadRequest(f"scope must be one of {', '.join(SCOPES)}")
    stmt = select(Dataset).where(readable_datasets(who))
    if scope == "mine":
        stmt = stmt.where(Dataset.owner == who.name)
    elif scope != "all":
        stmt = stmt.where(Dataset.visibility == scope)
    if q:
        stmt = stmt.where(_matches(db, q))
    if owner:
        stmt = stmt.where(Dataset.owner == owner)
    if data_type:
        stmt = stmt.where(Dataset.data_type == data_type)
    if tag:
        stmt = stmt.where(
            Dataset.id.in_(select(DatasetTag.dataset_id).where(DatasetTag.tag == tag))
        )
    key = decode_cursor(cursor, 2)
    if key:
        stmt = stmt.where(tuple_(Dataset.name, Dataset.id) > tuple(key))
    rows = list(db.scalars(stmt.order_by(Dataset.name, Dataset.id).limit(limit + 1)))
    nxt = encode_cursor([rows[limit - 1].name, rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], nxt


def _matches(db: Session, q: str) -> ColumnElement[bool]:
    """Substring match on name or description. On SQLite, terms of 3+ characters go through
    the trigram FTS index (migration 0002); PostgreSQL's ILIKE uses its pg_trgm indexes."""
    if db.get_bind().dialect.name == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH :phrase")
        return literal_column("datasets.rowid").in_(fts.bindparams(phrase=phrase))
    return or_(
        Dataset.name.icontains(q, autoescape=True),
        Dataset.description.icontains(q, autoescape=True),
    )


def latest_numbers(db: Session, ids: list[str]) -> dict[str, int]:
    """The newest ready version of each dataset, in one query."""
    if not ids:
        return {}
    stmt = (
        select(Version.dataset_id, func.max(Version.number))
        .where(Version.dataset_id.in_(ids), Version.status == "ready")
        .group_by(Version.dataset_id)
    )
    return {ds_id: n for ds_id, n in db.execute(stmt)}


def aliases_of(db: Session, ids: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for a in db.scalars(select(Alias).where(Alias.dataset_id.in_(ids))):
            out[a.dataset_id][a.name] = a.number
    return out


def update(db: Session, who: Identity, ds: Dataset, body: dict) -> Dataset:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may change dataset {ds.name!r}")
    unknown = set(body) - {"name", "description", "tags", "visibility", "team", "data_type", "zone"}
    if unknown:
        raise BadRequest(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    # no flush before the commit below: a taken name must come back as a 409, not a 500
    with db.no_autoflush:
        if "name" in body:
            try:
                ds.name = check_name(body["name"], "dataset name")
            except ValueError as e:
                raise BadRequest(str(e), reason="invalid-name") from None
        if "description" in body:
            ds.description = str(body["description"] or "")[:10000]
        if "data_type" in body:
            if body["data_type"] not in DATA_TYPES:
                raise BadRequest(f"data_type must be one of {', '.join(DATA_TYPES)}")
            ds.data_type = body["data_type"]
        if "zone" in body:
            ds.zone = body["zone"] or None
        if "tags" in body:
            ds.tags = _tags(body["tags"])
            ds.tag_rows = [DatasetTag(tag=t) for t in ds.tags]
        if "visibility" in body or "team" in body:
            before = ds.visibility
            merged = {"visibility": ds.visibility, **body}
            ds.visibility, ds.team = _visibility(who, merged, ds.team)
            if before != ds.visibility:
                audit.record(
                    db, who, "dataset.visibility", ds.id, before=before, after=ds.visibility
                )
    audit.record(db, who, "dataset.update", ds.id, fields=sorted(body))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"you already have a dataset named {body.get('name')!r}") from None
    return ds


def mounted_numbers(db: Session, ds_id: str) -> set[int]:
    stmt = (
        select(Version.number)
        .join(Mount, Mount.version_id == Version.id)
        .where(Version.dataset_id == ds_id)
    )
    return set(db.scalars(stmt))


def set_alias(db: Session, who: Identity, ds: Dataset, name: str, number: Any) -> Alias:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may move aliases of {ds.name!r}")
    try:
        check_alias(name)
    except ValueError as e:
        raise BadRequest(str(e), reason="invalid-alias") from None
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadRequest('the body must be {"version": N} with N a version number')
    v = db.scalars(select(Version).filter_by(dataset_id=ds.id, number=number)).first()
    if v is None or v.status != "ready":
        raise BadRequest(f"version {number} of {ds.name!r} is not ready", reason="not-ready")
    alias = db.get(Alias, (ds.id, name))
    before = alias.number if alias else None
    if alias is None:
        alias = Alias(dataset_id=ds.id, name=name, number=number, updated_by=who.name)
        db.add(alias)
    else:
        alias.number, alias.updated_by = number, who.name
    audit.record(db, who, "alias.set", f"{ds.id}@{name}", before=before, after=number)
    db.commit()
    return alias


def delete_alias(db: Session, who: Identity, ds: Dataset, name: str) -> None:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may move aliases of {ds.name!r}")
    alias = db.get(Alias, (ds.id, name))
    if alias is None:
        raise NotFound(f"dataset {ds.name!r} has no alias {name!r}")
    db.delete(alias)
    audit.record(db, who, "alias.delete", f"{ds.id}@{name}")
    db.commit()
