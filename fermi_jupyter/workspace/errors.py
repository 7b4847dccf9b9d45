"""The one exception of the notebook side: a sentence for people and a listed reason."""

from __future__ import annotations

from ..client.errors import FermiError
from .reasons import Reason


class WorkspaceError(FermiError):
    """Raised by the workspace manager; the extension answers ``{"message", "reason"}`` with
    the reason's status, the CLI and magics print the message."""

    def __init__(self, message: str, reason: Reason | str, status: int | None = None):
        reason = Reason(reason)
        super().__init__(message, reason=reason.value, status=status or reason.status)
