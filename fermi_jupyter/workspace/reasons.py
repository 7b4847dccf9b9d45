"""Every ``reason`` the server extension can answer, with its HTTP status and meaning.

The error body is always ``{"message": "<a sentence for people>", "reason": "<one of these>"}``.
The extension's OpenAPI document enumerates this list; a test checks that every reason raised
in the notebook-side code is here. Reasons the registry sends are passed on when they are
listed here, else replaced by the generic one for the status (the message is kept).
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    # -- generic, by HTTP status -------------------------------------------------------------
    bad_request = "bad-request"
    invalid_json = "invalid-json"
    invalid_parameter = "invalid-parameter"
    bad_cursor = "bad-cursor"
    unauthorized = "unauthorized"
    forbidden = "forbidden"
    not_found = "not-found"
    method_not_allowed = "method-not-allowed"
    conflict = "conflict"
    # -- this server: mounts and local paths -------------------------------------------------
    bad_plan = "bad-plan"
    bad_path = "bad-path"
    path_refused = "path-refused"
    not_in_volume = "not-in-volume"
    in_dataset = "in-dataset"
    not_a_directory = "not-a-directory"
    not_a_file = "not-a-file"
    # -- the registry, as seen from here ------------------------------------------------------
    no_registry_url = "no-registry-url"
    registry_unavailable = "registry-unavailable"
    # -- datasets, versions, volumes, jobs ----------------------------------------------------
    invalid_ref = "invalid-ref"
    invalid_name = "invalid-name"
    invalid_type = "invalid-type"
    invalid_visibility = "invalid-visibility"
    invalid_alias = "invalid-alias"
    invalid_id = "invalid-id"
    not_in_team = "not-in-team"
    exists = "exists"
    mounted = "mounted"
    not_ready = "not-ready"
    no_ready = "no-ready"
    no_version = "no-version"
    not_running = "not-running"
    not_cancellable = "not-cancellable"
    not_browsable = "not-browsable"
    dataset_not_found = "dataset-not-found"
    volume_not_found = "volume-not-found"
    job_not_found = "job-not-found"
    alias_not_found = "alias-not-found"
    corrupt_manifest = "corrupt-manifest"
    io_error = "io-error"
    storage = "storage"
    cancelled = "cancelled"
    # -- transfers and credentials ------------------------------------------------------------
    invalid_transfer = "invalid-transfer"
    invalid_field = "invalid-field"
    credential_type = "credential-type"
    transfer_not_found = "transfer-not-found"
    credential_not_found = "credential-not-found"
    credential_unreadable = "credential-unreadable"

    @property
    def status(self) -> int:
        return STATUS.get(self, 400)

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


R = Reason
STATUS: dict[Reason, int] = {
    R.unauthorized: 401,
    R.forbidden: 403,
    R.not_cancellable: 403,
    R.not_found: 404,
    R.dataset_not_found: 404,
    R.volume_not_found: 404,
    R.job_not_found: 404,
    R.alias_not_found: 404,
    R.transfer_not_found: 404,
    R.credential_not_found: 404,
    R.no_version: 404,
    R.no_ready: 404,
    R.method_not_allowed: 405,
    R.conflict: 409,
    R.exists: 409,
    R.mounted: 409,
    R.not_running: 409,
    R.cancelled: 409,
    R.corrupt_manifest: 409,
    R.registry_unavailable: 502,
    R.no_registry_url: 503,
    R.bad_plan: 503,
    R.io_error: 503,
}

DESCRIPTIONS: dict[Reason, str] = {
    R.bad_request: "The request cannot be done as sent; the message says what to change.",
    R.invalid_json: "The body is not a JSON object.",
    R.invalid_parameter: "A query parameter or body field has a value outside its range.",
    R.bad_cursor: "The cursor is not one this API handed out: start again without it.",
    R.unauthorized: "No valid token or session: log in through JupyterHub.",
    R.forbidden: "You may not do this (e.g. change someone else's dataset).",
    R.not_found: "No such thing, or not one you may see.",
    R.method_not_allowed: "This resource does not answer that HTTP method.",
    R.conflict: "The resource is in a state that forbids this now.",
    R.bad_plan: "This server's mount plan (FERMI_MOUNTS) cannot be read: restart it from the hub.",
    R.bad_path: "The path cannot be used here (e.g. a volume's root where a new folder is asked).",
    R.path_refused: "The path leaves its volume (.., an absolute path, a symlink out).",
    R.not_in_volume: "The local path is not inside a volume mounted in this server.",
    R.in_dataset: "The local path is inside a read-only dataset mount.",
    R.not_a_directory: "A folder was expected.",
    R.not_a_file: "A file was expected.",
    R.no_registry_url: "No registry is configured: this server was not started by the hub.",
    R.registry_unavailable: "The registry cannot be reached or failed; try again shortly.",
    R.invalid_ref: "Not a version reference: write NAME@N, NAME@ALIAS or OWNER/NAME@N.",
    R.invalid_name: "Not a valid name for a dataset or volume.",
    R.invalid_type: "Not a known type (volume type or data type).",
    R.invalid_visibility: "Visibility is one of private, team, org, public.",
    R.invalid_alias: "Not a valid alias name (letters, digits, . - _, not 'latest').",
    R.invalid_id: "Not a valid id.",
    R.not_in_team: "You are not a member of that team.",
    R.exists: "The name or target folder is taken.",
    R.mounted: "Mounted by a running server (the message names which): stop it first.",
    R.not_ready: "The version is not ready (yet).",
    R.no_ready: "The dataset has no ready version yet, so 'latest' means nothing.",
    R.no_version: "The dataset has no such version or alias.",
    R.not_running: "Nothing to cancel: the version or job has already finished.",
    R.not_cancellable: "The running work was started by someone else.",
    R.not_browsable: "The volume cannot be browsed from here (e.g. a PVC not mounted here).",
    R.dataset_not_found: "No dataset by that reference that you can see.",
    R.volume_not_found: "No volume by that id that you can use.",
    R.job_not_found: "No job by that id of yours.",
    R.alias_not_found: "The dataset has no alias by that name.",
    R.corrupt_manifest: "The stored manifest cannot be read: an admin should look.",
    R.io_error: "The storage could not be read or written.",
    R.storage: "The storage refused the operation; the message says why.",
    R.cancelled: "The work was cancelled.",
    R.invalid_transfer: "The transfer cannot be done as asked (a URL, a path, an option); the "
    "message says which.",
    R.invalid_field: "A credential field is missing or not one line of text.",
    R.credential_type: "The named credential is of another type than the transfer's tool.",
    R.transfer_not_found: "No transfer by that id of yours.",
    R.credential_not_found: "You have no credential by that name (404), or a transfer names "
    "one that was deleted (400).",
    R.credential_unreadable: "A stored credential cannot be decrypted (the registry's key "
    "changed): delete it and store it again.",
}

GENERIC_BY_STATUS: dict[int, Reason] = {
    400: R.bad_request,
    401: R.unauthorized,
    403: R.forbidden,
    404: R.not_found,
    405: R.method_not_allowed,
    409: R.conflict,
    502: R.registry_unavailable,
    503: R.registry_unavailable,
}


def coerce(reason: str | None, status: int) -> Reason:
    """A listed reason for what the registry (or tornado) said; generic when it is unknown."""
    try:
        return Reason(reason)
    except ValueError:
        if status >= 500:
            return R.registry_unavailable
        return GENERIC_BY_STATUS.get(status, R.bad_request)
