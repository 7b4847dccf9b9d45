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
