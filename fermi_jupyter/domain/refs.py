"""Version references as people type them: ``name@3``, ``ds-abc@latest``, ``owner/name@prod``."""

from __future__ import annotations

import re
from dataclasses import dataclass

ALIAS_RE = re.compile(r"^[a-z][a-z0-9_.\-]{0,62}$")


@dataclass(frozen=True)
class VersionRef:
    dataset: str  # an id (ds-…), a name, or owner/name
    selector: str  # a number, "latest" or an alias

    @property
    def number(self) -> int | None:
        return int(self.selector) if self.selector.isdigit() else None

    def __str__(self) -> str:
        return f"{self.dataset}@{self.selector}"


def parse_ref(text: str) -> VersionRef:
    """Split ``dataset@selector``; a bare dataset means ``@latest``."""
    text = text.strip()
    if not text:
        raise ValueError("a dataset reference is required, e.g. imagenet@3 or imagenet@latest")
    dataset, _, selector = text.rpartition("@") if "@" in text else (text, "", "latest")
    if not dataset or not selector:
        raise ValueError(f"{text!r} is not a version reference; write NAME@N or NAME@ALIAS")
    if not (selector.isdigit() or ALIAS_RE.match(selector)):
        raise ValueError(f"{selector!r} is neither a version number nor an alias name")
    return VersionRef(dataset, selector)


def check_alias(name: str) -> str:
    if not ALIAS_RE.match(name or "") or name.isdigit():
        raise ValueError(
            "an alias starts with a letter and uses a-z, 0-9, '.', '-', '_' (e.g. production)"
        )
    if name == "latest":
        raise ValueError("'latest' always follows the newest ready version and cannot be set")
    return name
