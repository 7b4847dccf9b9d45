"""Query and path parameters checked before a verb runs: one sentence and a listed reason each."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ..domain.refs import parse_ref
from .errors import WorkspaceError
from .reasons import Reason

SELECTOR = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def limit(value: Any, default: int = 100, maximum: int = 1000) -> int:
    """A page size from a query string (or the CLI): a whole number from 1 to ``maximum``."""
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise WorkspaceError(
            f"limit must be a whole number, not {str(value)[:40]!r}", Reason.invalid_parameter
        ) from None
    if not 1 <= number <= maximum:
        raise WorkspaceError(f"limit must be between 1 and {maximum}", Reason.invalid_parameter)
    return number


def selector(text: str) -> str:
    """A version: a number, ``latest`` or an alias."""
    if not SELECTOR.fullmatch(text or ""):
        raise WorkspaceError(
            f"{str(text)[:40]!r} is not a version: write a number, latest or an alias",
            Reason.invalid_ref,
        )
    return text


def job_id(text: str) -> int:
    if not str(text).isdigit() or len(str(text)) > 18:
        raise WorkspaceError(f"there is no job {str(text)[:40]!r}", Reason.job_not_found)
    return int(text)


def choice(name: str, value: str | None, allowed: list[str]) -> str | None:
    """An optional query parameter with a fixed set of values."""
    if value is not None and value not in allowed:
        raise WorkspaceError(
            f"{name} is one of {', '.join(allowed)}, not {value[:40]!r}", Reason.invalid_parameter
        )
    return value


def q(part: str | int) -> str:
    """One path segment of a registry URL."""
    return quote(str(part), safe="")


def split_ref(text: str) -> tuple[str, str]:
    """``NAME@N`` → (dataset, selector): how the CLI and magics name a version."""
    try:
        ref = parse_ref(text)
    except ValueError as e:
        raise WorkspaceError(str(e), Reason.invalid_ref) from None
    return ref.dataset, ref.selector
