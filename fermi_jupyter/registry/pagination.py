"""Opaque cursors for keyset pagination: the sort key of the last row, base64-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import BadRequest, Reason

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_INT = 2**31 - 1  # ids and version numbers are 32-bit integer columns
MAX_KEY_TEXT = 1024


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: int | tuple[type, ...]) -> list[Any] | None:
    """The key in ``cursor``: ``shape`` is the types of its parts (or just how many there are,
    each a string or a whole number). A cursor this API did not hand out is a 400."""
    if not cursor:
        return None
    types = shape if isinstance(shape, tuple) else ((str, int),) * shape
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        key = None
    if not (isinstance(key, list) and len(key) == len(types)):
        raise _bad()
    for part, want in zip(key, types, strict=True):
        if isinstance(part, bool) or not isinstance(part, want):
            raise _bad()
        if isinstance(part, int) and not -MAX_INT <= part <= MAX_INT:
            raise _bad()
        if isinstance(part, str) and (len(part) > MAX_KEY_TEXT or "\x00" in part):
            raise _bad()
    return key


def _bad() -> BadRequest:
    return BadRequest("the cursor is not one this API handed out", reason=Reason.bad_cursor)


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest(
            f"limit must be a whole number, not {value[:40]!r}", reason=Reason.invalid_query
        ) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", reason=Reason.invalid_query)
    return limit


def parse_int_id(text: str) -> int | None:
    """A path segment as a database id or number: None when it cannot be one (→ a 404)."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_INT else None
