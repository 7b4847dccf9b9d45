"""Errors the registry raises on purpose; handlers turn them into 4xx JSON."""

from __future__ import annotations


class RegistryError(Exception):
    status = 400
    reason = "bad-request"

    def __init__(self, message: str, *, reason: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        if status:
            self.status = status


class BadRequest(RegistryError):
    status, reason = 400, "bad-request"


class Unauthorized(RegistryError):
    status, reason = 401, "unauthorized"


class Forbidden(RegistryError):
    status, reason = 403, "forbidden"


class NotFound(RegistryError):
    status, reason = 404, "not-found"


class Conflict(RegistryError):
    status, reason = 409, "conflict"
