"""Exceptions raised by the client: one readable sentence each, with the API's reason code."""

from __future__ import annotations


class FermiError(Exception):
    """Base class. ``str(e)`` is the server's message; ``e.reason`` a short code."""

    def __init__(self, message: str, *, reason: str = "error", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status = status


class BadRequest(FermiError):
    pass


class Unauthorized(FermiError):
    pass


class Forbidden(FermiError):
    pass


class NotFound(FermiError):
    pass


class Conflict(FermiError):
    pass


class RegistryUnavailable(FermiError):
    """The registry could not be reached or answered with a server error."""


class VersionFailed(FermiError):
    """A version this client waited for ended ``failed`` or ``cancelled``."""


BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}


def from_response(status: int, body: dict | None) -> FermiError:
    body = body or {}
    message = body.get("message") or f"the registry answered HTTP {status}"
    reason = body.get("reason") or body.get("error") or "error"
    cls = BY_STATUS.get(status, RegistryUnavailable if status >= 500 else FermiError)
    return cls(message, reason=reason, status=status)
