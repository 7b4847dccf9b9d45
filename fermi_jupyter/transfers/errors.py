"""Transfer failures: a readable message, a short reason, and whether another attempt may help."""

from __future__ import annotations

# reasons that another attempt cannot fix: retried attempts would fail the same way
PERMANENT = frozenset({"unauthorized", "not-found", "invalid", "nothing-to-push", "refused"})


class TransferError(Exception):
    def __init__(self, message: str, reason: str = "failed"):
        super().__init__(message)
        self.message = message
        self.reason = reason

    @property
    def retryable(self) -> bool:
        return self.reason not in PERMANENT


class SpecError(ValueError):
    """A request that can never run: answered with a 400 before any job exists."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field
