"""Opaque cursors for keyset pagination: the sort key of the last row, base64-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import BadRequest

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this API handed out", reason="bad-cursor") from None
    if not isinstance(key, list) or len(key) != arity:
        raise BadRequest("the cursor is not one this API handed out", reason="bad-cursor")
    return key


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest(f"limit must be a whole number, not {value!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    return limit
