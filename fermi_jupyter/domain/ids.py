"""Identifiers: ``vol-…`` and ``ds-…`` with a random, URL- and path-safe tail."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford-ish: no i, l, o, u
ID_RE = re.compile(r"^(vol|ds)-[a-z0-9]{4,32}$")
NAME_RE = re.compile(r"^[\w][\w.\- ]{0,126}[\w.\-]?$", re.UNICODE)


def new_id(prefix: str, length: int = 12) -> str:
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def check_name(name: object, what: str = "name") -> str:
    """A display name: 1 to 128 characters, letters (any script), digits, space, ``.-_``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} is required")
    name = name.strip()
    if not NAME_RE.match(name) or "/" in name:
        raise ValueError(
            f"{what} {name!r} may use letters, digits, spaces, '.', '-' and '_' (at most 128)"
        )
    return name
