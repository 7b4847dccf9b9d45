"""SQL forms of the visibility rules in ``domain.visibility`` (kept side by side on purpose)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, String, and_, any_, bindparam, false, or_, text, true
from sqlalchemy.dialects.postgresql import ARRAY

from ...domain.identity import Identity
from ..orm import Dataset, Volume


def readable_datasets(who: Identity, *, bound: str | None = None) -> ColumnElement[bool]:
    """Datasets ``who`` may read. ``bound`` (the dialect's name): the name and teams as the
    parameters ``me`` and ``teams`` (a statement reused for every caller of the same shape),
    not as values."""
    me: Any = bindparam("me") if bound else who.name
    if who.admin:
        return true()
    if who.kind != "user":
        return Dataset.owner == me
    clauses = [Dataset.owner == me, Dataset.visibility.in_(("org", "public"))]
    if who.groups:
        clauses.append(and_(Dataset.visibility == "team", _in_teams(who, bound)))
    return or_(*clauses)


def _in_teams(who: Identity, bound: str | None) -> ColumnElement[bool]:
    """The teams as one value, not an expanding ``IN``: expanding re-renders the statement at
    every execution (8 % of a serving process's time on the list page). PostgreSQL takes an
    array; SQLite a JSON list it unpacks with ``json_each``."""
    if not bound:
        return Dataset.team.in_(sorted(who.groups))
    if bound == "postgresql":
        return Dataset.team == any_(bindparam("teams", type_=ARRAY(String)))
    return Dataset.team.in_(text("SELECT value FROM json_each(:teams)").columns(value=String))


def teams_param(who: Identity, dialect: str) -> Any:
    """``who``'s teams as the ``teams`` parameter of ``readable_datasets(bound=dialect)``:
    a list (PostgreSQL's array) or JSON text (SQLite's ``json_each``)."""
    teams = sorted(who.groups)
    return teams if dialect == "postgresql" else json.dumps(teams)


def usable_volumes(who: Identity) -> ColumnElement[bool]:
    if who.admin:
        return true()
    clauses = [Volume.owner == who.name]
    if who.groups:
        clauses.append(Volume.team.in_(sorted(who.groups)))
    return or_(*clauses) if clauses else false()
