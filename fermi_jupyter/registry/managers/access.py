"""SQL forms of the visibility rules in ``domain.visibility`` (kept side by side on purpose)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, true

from ...domain.identity import Identity
from ..orm import Dataset, Volume


def readable_datasets(who: Identity, *, bound: bool = False) -> ColumnElement[bool]:
    """Datasets ``who`` may read. ``bound``: the name and teams as the parameters ``me`` and
    ``teams`` (a statement reused for every caller of the same shape), not as values."""
    me: Any = bindparam("me") if bound else who.name
    teams: Any = bindparam("teams", expanding=True) if bound else sorted(who.groups)
    if who.admin:
        return true()
    if who.kind != "user":
        return Dataset.owner == me
    clauses = [Dataset.owner == me, Dataset.visibility.in_(("org", "public"))]
    if who.groups:
        clauses.append(and_(Dataset.visibility == "team", Dataset.team.in_(teams)))
    return or_(*clauses)


def usable_volumes(who: Identity) -> ColumnElement[bool]:
    if who.admin:
        return true()
    clauses = [Volume.owner == who.name]
    if who.groups:
        clauses.append(Volume.team.in_(sorted(who.groups)))
    return or_(*clauses) if clauses else false()
