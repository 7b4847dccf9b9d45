"""Storage errors: a readable sentence for people and a short ``reason`` code for programs."""

from __future__ import annotations


class StorageError(Exception):
    reason = "storage"

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class PathRefused(StorageError):
    reason = "path-refused"


class Cancelled(StorageError):
    reason = "cancelled"

    def __init__(self, message: str = "cancelled", reason: str | None = None):
        super().__init__(message, reason)


def readable(e: OSError, root: str = "") -> StorageError:
    """An OSError as a sentence a user can act on (paths shown relative to ``root``)."""
    name = str(e.filename or "")
    if root and name.startswith(root):
        name = name[len(root) :].lstrip("/") or "."
    what = f" {name!r}" if name else ""
    return StorageError(f"cannot read or write{what}: {e.strerror or e}", "io-error")
