"""Read statements built once and reused.

Building a select with SQLAlchemy (and generating its cache key) costs more than SQLite takes
to run it; a statement object that is reused keeps its memoized cache key and its compiled
form. Every value a request brings is a ``bindparam`` with no default — the page size too —
so a reused statement can never carry one request's value into another (a missing parameter
is an error), and the number of shapes stays small. The cache is bounded all the same: a
client cannot grow it by varying its requests.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy.orm import Session

_BUILT: dict[tuple[Hashable, ...], Any] = {}
MAX_SHAPES = 512  # far more than the API's filter combinations; the oldest go first


def reused(db: Session, key: tuple[Hashable, ...], build: Callable[[str], Any]) -> Any:
    """The statement for ``key`` on this database's dialect, built by ``build(dialect)`` the
    first time. Keys are shapes (which filters are present, the page size), never values."""
    dialect = db.get_bind().dialect.name
    full = (dialect, *key)
    stmt = _BUILT.get(full)
    if stmt is None:
        while len(_BUILT) >= MAX_SHAPES:
            _BUILT.pop(next(iter(_BUILT)), None)
        stmt = _BUILT.setdefault(full, build(dialect))
    return stmt
