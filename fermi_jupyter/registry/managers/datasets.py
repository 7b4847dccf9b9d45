"""Datasets: create, search, get, update metadata (tags, visibility), delete, aliases."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    String,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ...domain.ids import ID_RE, check_name, new_id
from ...domain.refs import check_alias
from ...domain.states import DATA_TYPES, VersionStatus
from ...domain.visibility import Visibility, can_read, can_write
from .. import audit
from ..errors import BadRequest, Conflict, Forbidden, NotFound, Reason
from ..orm import Alias, Dataset, DatasetTag, Mount, Version
from ..pagination import decode_cursor, encode_cursor
from ..serialize import dataset_json, dataset_rows_json
from .access import readable_datasets, teams_param
from .statements import reused

SCOPES = ("all", "mine", "team", "org", "public")
MAX_TAGS = 20


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadRequest(
            'tags must be a list of strings, e.g. ["清洗", "生产"]', Reason.invalid_body
        )
    tags = sorted({t.strip() for t in value if t.strip()})
    if len(tags) > MAX_TAGS or any(len(t) > 64 for t in tags):
        raise BadRequest(
            f"at most {MAX_TAGS} tags of at most 64 characters each", reason=Reason.invalid_body
        )
    return tags


def _visibility(who: Identity, body: dict, current_team: str | None) -> tuple[str, str | None]:
    try:
        vis = Visibility.parse(body.get("visibility", "private")).value
    except ValueError as e:
        raise BadRequest(str(e), reason=Reason.invalid_visibility) from None
    team = body.get("team", current_team) or None
    if vis == "team":
        if not team:
            raise BadRequest(
                "team visibility needs a team (one of your JupyterHub groups)",
                reason=Reason.not_in_team,
            )
        if not (who.admin or team in who.groups):
            raise BadRequest(f"you are not a member of team {team!r}", reason=Reason.not_in_team)
    return vis, team


def create(db: Session, who: Identity, body: dict) -> Dataset:
    try:
        name = check_name(body.get("name"), "dataset name")
    except ValueError as e:
        raise BadRequest(str(e), reason=Reason.invalid_name) from None
    data_type = body.get("data_type", "mixed")
    if data_type not in DATA_TYPES:
        raise BadRequest(
            f"data_type must be one of {', '.join(DATA_TYPES)}", reason=Reason.invalid_type
        )
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
        raise Conflict(f"you already have a dataset named {name!r}", reason=Reason.exists) from None
    return ds


def resolve(db: Session, who: Identity, ref: str) -> Dataset:
    """A dataset by id, by ``owner/name`` or by name (yours first, else the one visible match)."""
    return _find(db, who, ref, select(Dataset), orm=True)


def read(db: Session, who: Identity, ref: str) -> Row:
    """Like ``resolve``, as one plain row carrying ``latest`` and ``aliases``: one query."""
    return _find(db, who, ref, _PAGE_SELECT, orm=False, key="page")


def lookup(db: Session, who: Identity, ref: str) -> Row:
    """Like ``resolve``, as a plain row of the dataset's own columns (``id``, ``name``,
    ``owner``, ``team``, ``visibility``…): for reads that need no ORM object."""
    return _find(db, who, ref, _ROW_SELECT, orm=False, key="row")


def _find(db: Session, who: Identity, ref: str, stmt: Any, *, orm: bool, key: str = "") -> Any:
    def run(q: Any) -> list[Any]:
        return list(db.scalars(q) if orm else db.connection().execute(q))

    if ID_RE.match(ref):  # the common case: a statement built once
        if orm:
            d = db.get(Dataset, ref)
            candidates = [d] if d is not None else []
        else:
            assert key, "a reused statement needs its own key"
            one = reused(
                db, ("datasets.one", key), lambda _: stmt.where(Dataset.id == bindparam("id"))
            )
            candidates = db.connection().execute(one, {"id": ref}).all()
    elif "/" in ref:
        owner, _, name = ref.partition("/")
        candidates = run(stmt.where(Dataset.owner == owner, Dataset.name == name))
    else:
        candidates = run(stmt.where(Dataset.owner == who.name, Dataset.name == ref)) or run(
            stmt.where(Dataset.name == ref, readable_datasets(who)).limit(3)
        )
    candidates = [d for d in candidates if can_read(who, d)]
    if not candidates:
        raise not_found(ref)
    if len(candidates) > 1:
        owners = ", ".join(f"{d.owner}/{d.name}" for d in candidates)
        raise BadRequest(
            f"{ref!r} is ambiguous ({owners}): use owner/name or the id", reason=Reason.ambiguous
        )
    return candidates[0]


def not_found(ref: str) -> NotFound:
    """The answer for a dataset that does not exist and for one the caller may not see: the
    same, so that a name does not tell whether it exists."""
    return NotFound(f"no dataset {ref!r} that you can see", reason=Reason.dataset_not_found)


def writable(db: Session, who: Identity, ref: str) -> Dataset:
    ds = resolve(db, who, ref)
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may change dataset {ds.name!r}")
    return ds


_ROW_SELECT = select(Dataset.__table__)  # (built once: lookups are on every version read)
_COPIES = ("latest_ready", "alias_map")
# dataset rows with their newest ready version and aliases, both kept on the row (summary.py)
_PAGE_SELECT = select(
    *(c for c in Dataset.__table__.c if c.name not in _COPIES),
    Dataset.__table__.c.latest_ready.label("latest"),
    Dataset.__table__.c.alias_map.label("aliases"),
)


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
) -> tuple[list[Row], str | None]:
    """A page of readable datasets as plain rows (no ORM objects), each with its ``latest``."""
    if scope not in SCOPES:
        raise BadRequest(f"scope must be one of {', '.join(SCOPES)}", reason=Reason.invalid_query)
    key = decode_cursor(cursor, (str, str))
    dialect = db.get_bind().dialect.name
    # every value is a bound parameter, so the statement for this shape is built once
    params: dict[str, Any] = {
        "me": who.name,
        "teams": teams_param(who, dialect),
        "scope": scope,
        "owner": owner,
        "data_type": data_type,
        "tag": tag,
        "after_name": key[0] if key else None,
        "after_id": key[1] if key else None,
        "limit": limit + 1,
    }
    shape = (who.admin, who.kind == "user", bool(who.groups), scope, bool(owner), bool(tag))
    shape += (bool(data_type), bool(key))

    def build(dialect: str) -> Any:
        stmt = _PAGE_SELECT.where(readable_datasets(who, bound=dialect))
        if scope == "mine":
            stmt = stmt.where(Dataset.owner == bindparam("me"))
        elif scope != "all":
            stmt = stmt.where(Dataset.visibility == bindparam("scope"))
        if owner:
            stmt = stmt.where(Dataset.owner == bindparam("owner"))
        if data_type:
            stmt = stmt.where(Dataset.data_type == bindparam("data_type"))
        if tag:
            tagged = select(DatasetTag.dataset_id).where(DatasetTag.tag == bindparam("tag"))
            stmt = stmt.where(Dataset.id.in_(tagged))
        if key:
            after = tuple_(
                bindparam("after_name", type_=Dataset.name.type),
                bindparam("after_id", type_=Dataset.id.type),
            )
            stmt = stmt.where(tuple_(Dataset.name, Dataset.id) > after)
        return stmt.order_by(Dataset.name, Dataset.id).limit(bindparam("limit", type_=Integer))

    match = _match_kind(dialect, q) if q else None
    if q:
        params.update(_match_params(q))

    def build_page(dialect: str) -> Any:
        stmt = build(dialect)
        return stmt.where(_matches(match)) if match else stmt

    stmt = reused(db, ("datasets.page", match, *shape), build_page)
    rows = db.connection().execute(stmt, params).all()  # one fetchall, not a fetch a row
    nxt = encode_cursor([rows[limit - 1].name, rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], nxt


def _match_kind(dialect: str, q: str) -> str:
    """On SQLite, terms of 3+ characters go through the trigram FTS index (migration 0002);
    on PostgreSQL, a plain LIKE on the stored lower-cased ``search_text`` (migration 0006),
    which its pg_trgm index serves. ILIKE on name and description is left for the rest (a
    term with a line break could match across the two in ``search_text``)."""
    if dialect == "sqlite":
        return "fts" if len(q) >= 3 else "like"
    return "text" if dialect == "postgresql" and "\n" not in q else "like"


def _match_params(q: str) -> dict[str, str]:
    return {
        "phrase": '"' + q.replace('"', '""') + '"',
        "like": q.replace("/", "//").replace("%", "/%").replace("_", "/_"),
    }


_SEARCH_TEXT = literal_column("datasets.search_text", String)


def _matches(kind: str) -> ColumnElement[bool]:
    """Substring match on name or description (the term as ``:phrase`` or ``:like``)."""
    if kind == "fts":
        fts = text("SELECT rowid FROM datasets_fts WHERE datasets_fts MATCH :phrase")
        return literal_column("datasets.rowid").in_(fts)
    if kind == "text":  # lower() of the term once, as the column holds lower() of each row
        return _SEARCH_TEXT.contains(func.lower(bindparam("like", type_=String)), escape="/")
    return or_(
        Dataset.name.icontains(bindparam("like"), escape="/"),
        Dataset.description.icontains(bindparam("like"), escape="/"),
    )


def latest_numbers(db: Session, ids: list[str]) -> dict[str, int]:
    """The newest ready version of each dataset, in one query."""
    if not ids:
        return {}
    stmt = (
        select(Version.dataset_id, func.max(Version.number))
        .where(Version.dataset_id.in_(ids), Version.status == VersionStatus.ready)
        .group_by(Version.dataset_id)
    )
    return {ds_id: n for ds_id, n in db.execute(stmt)}


def aliases_of(db: Session, ids: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {i: {} for i in ids}
    if ids:
        stmt = select(Alias.dataset_id, Alias.name, Alias.number).where(Alias.dataset_id.in_(ids))
        for ds_id, name, number in db.execute(stmt):
            out[ds_id][name] = number
    return out


def to_json(db: Session, rows: list[Any]) -> list[dict[str, Any]]:
    """Datasets as the API shows them. Rows from ``list_``/``read`` carry their latest
    version and aliases; ORM objects (just written) cost two batched queries."""
    if rows and isinstance(rows[0], Row):
        return dataset_rows_json(rows, _json_value)
    ids = [d.id for d in rows]
    aliases, latest = aliases_of(db, ids), latest_numbers(db, ids)
    return [dataset_json(d, latest=latest.get(d.id), aliases=aliases[d.id]) for d in rows]


def _json_value(value: Any) -> Any:
    """An aggregate as the driver hands it back: parsed (psycopg) or JSON text (SQLite)."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def update(db: Session, who: Identity, ds: Dataset, body: dict) -> Dataset:
    if not can_write(who, ds):
        raise Forbidden(f"only {ds.owner} (or an admin) may change dataset {ds.name!r}")
    unknown = set(body) - {"name", "description", "tags", "visibility", "team", "data_type", "zone"}
    if unknown:
        raise BadRequest(
            f"these fields cannot be changed: {', '.join(sorted(unknown))}",
            reason=Reason.invalid_body,
        )
    # no flush before the commit below: a taken name must come back as a 409, not a 500
    with db.no_autoflush:
        if "name" in body:
            try:
                ds.name = check_name(body["name"], "dataset name")
            except ValueError as e:
                raise BadRequest(str(e), reason=Reason.invalid_name) from None
        if "description" in body:
            ds.description = str(body["description"] or "")[:10000]
        if "data_type" in body:
            if body["data_type"] not in DATA_TYPES:
                raise BadRequest(
                    f"data_type must be one of {', '.join(DATA_TYPES)}", reason=Reason.invalid_type
                )
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
        raise Conflict(
            f"you already have a dataset named {body.get('name')!r}", reason=Reason.exists
        ) from None
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
        raise BadRequest(str(e), reason=Reason.invalid_alias) from None
    v = db.scalars(select(Version).filter_by(dataset_id=ds.id, number=number)).first()
    if v is None or v.status != VersionStatus.ready:
        raise BadRequest(f"version {number} of {ds.name!r} is not ready", reason=Reason.not_ready)
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
