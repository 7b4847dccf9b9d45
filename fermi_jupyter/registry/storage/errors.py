"""Storage errors: a readable sentence for people and a short ``reason`` code for programs."""

from __future__ import annotations

import errno


class StorageError(Exception):
    """``str(e)`` is a sentence a user can act on; ``e.reason`` a short code for programs
    ("path-refused", "not-found", "not-a-directory", "exists", "io-error", ...)."""

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


class Changed(StorageError):
    """A file was replaced (another inode, a symlink, a fifo) between the walk and its read."""

    reason = "changed"


def readable(e: OSError, root: str = "") -> StorageError:
    """An OSError as a sentence a user can act on. Paths are shown relative to ``root`` so
    messages never reveal where the storage root lives on the server."""
    name = str(e.filename or "")
    if root and name.startswith(root):
        name = name[len(root) :].lstrip("/") or "."
    elif name.startswith("/"):
        name = name.rsplit("/", 1)[-1]
    what = f" {name!r}" if name else ""
    full = e.errno in (errno.ENOSPC, errno.EDQUOT)  # the one failure an admin must act on
    return StorageError(
        f"cannot read or write{what}: {e.strerror or e}", "no-space" if full else "io-error"
    )
