"""The hub endpoints' errors: one body, ``{"message", "reason"}``, and the reasons listed here.

``docs/reference/hub-endpoints.md`` lists the same table; a test checks that every reason a
handler raises is in it.
"""

from __future__ import annotations

from tornado import web

REASONS: dict[str, tuple[int, str]] = {
    "not-authenticated": (401, "no hub login cookie: log in to the hub first"),
    "bad-limit": (400, "limit is not a whole number from 1 to 100"),
    "bad-cursor": (400, "cursor is not one this endpoint handed out"),
    "bad-query": (400, "q is longer than 200 characters or holds control characters"),
    "not-found": (404, "no such endpoint, or no such dataset visible to you"),
    "registry-refused": (400, "the registry refused the request; message says why"),
    "registry-down": (502, "the registry did not answer"),
    "registry-failed": (502, "the registry failed on its side (a 5xx)"),
    "token-unavailable": (503, "the hub would not make a registry token for this user"),
    "internal-error": (500, "a bug in the hub endpoint; the hub log has the details"),
}


class HubError(web.HTTPError):
    """An error with a listed reason; the status comes from the table."""

    def __init__(self, reason: str, message: str, status: int | None = None):
        if reason not in REASONS:
            raise ValueError(f"unlisted reason {reason!r}")
        super().__init__(status or REASONS[reason][0], message.replace("%", "%%"))
        self.fermi_reason = reason
        self.fermi_message = message
