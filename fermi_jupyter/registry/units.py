"""Sizes as people write them: ``500Gi``, ``20GB``, ``1024``."""

from __future__ import annotations

import re

from .errors import BadRequest

_UNITS = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)
MAX_CAPACITY = 2**50  # 1 PiB: anything bigger is a typo


def parse_size(value: object, what: str = "capacity") -> int:
    if isinstance(value, bool):
        raise BadRequest(f"{what} must be a size such as 500Gi")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (m := _SIZE_RE.match(value)):
        size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])
    else:
        raise BadRequest(f"{what} must be a size such as 500Gi or 20GB, not {value!r}")
    if not 0 < size <= MAX_CAPACITY:
        raise BadRequest(f"{what} must be more than 0 and at most 1Pi")
    return size
