"""SQL forms of the visibility rules in ``domain.visibility`` (kept side by side on purpose)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from ...domain.identity import Identity
from ..orm import Dataset, Volume


def readable_datasets(who: Identity) -> ColumnElement[bool]:
    if who.admin:
        return true()
    if who.kind != "user":
        return Dataset.owner == who.name
    clauses = [Dataset.owner == who.name, Dataset.visibility.in_(("org", "public"))]
    if who.groups:
        clauses.append(and_(Dataset.visibility == "team", Dataset.team.in_(sorted(who.groups))))
    return or_(*clauses)


def usable_volumes(who: Identity) -> ColumnElement[bool]:
    if who.admin:
        return true()
    clauses = [Volume.owner == who.name]
    if who.groups:
        clauses.append(Volume.team.in_(sorted(who.groups)))
    return or_(*clauses) if clauses else false()
