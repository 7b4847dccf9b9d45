"""Errors the registry raises on purpose; handlers turn them into 4xx JSON ``{message, reason}``.

Every ``reason`` a client can receive is a member of ``Reason``; the OpenAPI document lists the
same codes (``components.schemas.Error``) and a test keeps the two equal.
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    # the request itself
    bad_request = "bad-request"
    invalid_json = "invalid-json"
    invalid_body = "invalid-body"
    invalid_query = "invalid-query"
    bad_cursor = "bad-cursor"
    too_large = "too-large"
    method_not_allowed = "method-not-allowed"
    # who is asking
    unauthorized = "unauthorized"
    forbidden = "forbidden"
    # fields with rules beyond their type
    invalid_name = "invalid-name"
    invalid_alias = "invalid-alias"
    invalid_ref = "invalid-ref"
    invalid_type = "invalid-type"
    invalid_visibility = "invalid-visibility"
    invalid_server = "invalid-server"
    not_in_team = "not-in-team"
    ambiguous = "ambiguous"
    invalid_transfer = "invalid-transfer"
    invalid_field = "invalid-field"
    credential_type = "credential-type"
    # things that are not there (or not visible to the caller)
    not_found = "not-found"
    dataset_not_found = "dataset-not-found"
    volume_not_found = "volume-not-found"
    job_not_found = "job-not-found"
    no_version = "no-version"
    no_ready = "no-ready"
    no_alias = "no-alias"
    transfer_not_found = "transfer-not-found"
    credential_not_found = "credential-not-found"
    # states that forbid the request
    conflict = "conflict"
    exists = "exists"
    mounted = "mounted"
    not_ready = "not-ready"
    busy = "busy"
    not_running = "not-running"  # a cancel of a registration that has finished
    not_cancellable = "not-cancellable"  # a reader of the dataset who did not start it
    not_browsable = "not-browsable"
    insufficient_space = "insufficient-space"
    # storage (registry/storage/errors.py and its callers)
    path_refused = "path-refused"
    not_a_directory = "not-a-directory"
    not_a_file = "not-a-file"
    invalid_id = "invalid-id"
    io_error = "io-error"
    corrupt_manifest = "corrupt-manifest"
    corrupt = "corrupt"
    cancelled = "cancelled"
    storage = "storage"
    changed = "changed"  # a folder was swapped for a symlink while it was read
    unfinished = "unfinished"  # a version folder on disk is not complete (rebuilt, not answered)
    # the registry itself (never caused by input)
    unavailable = "unavailable"
    internal_error = "internal-error"
    credential_unreadable = "credential-unreadable"  # the credentials key changed


# the reason of a plain HTTP error tornado raises itself (unknown route, bad argument encoding)
BY_STATUS = {
    400: Reason.bad_request,
    401: Reason.unauthorized,
    403: Reason.forbidden,
    404: Reason.not_found,
    405: Reason.method_not_allowed,
    409: Reason.conflict,
    413: Reason.too_large,
    503: Reason.unavailable,
}


class RegistryError(Exception):
    status = 400
    reason: str = Reason.bad_request

    def __init__(self, message: str, *, reason: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason  # a Reason; tests check every code raised is one
        if status:
            self.status = status


class BadRequest(RegistryError):
    status, reason = 400, Reason.bad_request


class Unauthorized(RegistryError):
    status, reason = 401, Reason.unauthorized


class Forbidden(RegistryError):
    status, reason = 403, Reason.forbidden


class NotFound(RegistryError):
    status, reason = 404, Reason.not_found


class Conflict(RegistryError):
    status, reason = 409, Reason.conflict
