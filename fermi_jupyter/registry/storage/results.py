"""What storage operations return."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    digest: str
    files: int
    bytes: int
    new_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    manifest_path: Path | None = None


@dataclass
class VerifyReport:
    ok: bool
    digest: str
    expected_digest: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    files: int
    bytes: int
    n_added: int = 0
    n_removed: int = 0
    n_changed: int = 0
    # snapshots: stored files or folders no longer read-only or no longer the store's own
    unprotected: list[str] = field(default_factory=list)
    n_unprotected: int = 0


class Capped(list):  # type: ignore[type-arg]
    """A list that keeps the first ``cap`` items and counts the rest."""

    def __init__(self, cap: int = 100):
        super().__init__()
        self.cap = cap
        self.total = 0

    def add(self, item: str) -> None:
        self.total += 1
        if len(self) < self.cap:
            self.append(item)

    def extend_counted(self, items: list[str], count: int) -> None:
        """Add ``count`` items of which ``items`` are the first few."""
        self.total += count
        room = self.cap - len(self)
        if room > 0:
            self.extend(items[:room])
