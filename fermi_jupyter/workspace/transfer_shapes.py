"""Transfers and credentials: the bodies the extension accepts and the shapes it answers.

The same fields as the registry's ``transfers`` and ``credentials`` resources
(docs/user/transfers.md); bounded and closed, so a body of the wrong shape is refused here with
a sentence naming the field. What only the registry can judge (a URL's host, a credential of
the right type, the extra-argument allow-list) it refuses itself, and the extension passes its
message on. No shape here ever holds a secret's value.
"""

from __future__ import annotations

from typing import Any

from .shapes import BOOL, INT, STR, enum, nullable, obj, page, ref

LINE = {"type": "string", "minLength": 1, "maxLength": 2048}
SHORT = {"type": "string", "maxLength": 255}
CREDENTIAL = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$",
    "description": "Name of one of your credentials of the same type",
}
TOOLS = ["git", "huggingface", "s3"]
STATES = ["pending", "running", "complete", "failed", "cancelled"]

# one schema per place a transfer reads from or writes to, chosen by its "type"
PLACES: dict[str, dict[str, Any]] = {
    "GitPlace": obj(
        {
            "type": {"const": "git"},
            "url": {
                **LINE,
                "description": "https://, http:// or git:// URL; $(TOKEN) in the user part is "
                "the credential's token",
            },
            "ref": {**SHORT, "description": "Branch, tag or commit (upload: branch to push to)"},
            "credential": CREDENTIAL,
        },
        ["type", "url"],
        additionalProperties=False,
    ),
    "HuggingFacePlace": obj(
        {
            "type": {"const": "huggingface"},
            "repo": {**SHORT, "minLength": 1, "description": "owner/name"},
            "repo_type": enum(["model", "dataset", "space"], "Default model"),
            "revision": SHORT,
            "files": {
                "oneOf": [
                    {"type": "array", "items": SHORT, "maxItems": 200},
                    {"type": "string", "maxLength": 4096},
                ],
                "description": "Download only: file names or glob patterns (a list or "
                "comma-separated)",
            },
            "path_in_repo": {**SHORT, "description": "Upload only"},
            "commit_message": {"type": "string", "maxLength": 2000},
            "endpoint": {**LINE, "description": "Another Hub; default https://huggingface.co"},
            "credential": CREDENTIAL,
        },
        ["type", "repo"],
        additionalProperties=False,
    ),
    "S3Place": obj(
        {
            "type": {"const": "s3"},
            "uri": {**LINE, "description": "s3://bucket/prefix (a prefix, or one object)"},
            "endpoint": {**LINE, "description": "S3-compatible endpoint; default AWS"},
            "region": {"type": "string", "maxLength": 64},
            "no_check_bucket": {**BOOL, "description": "Upload only"},
            "credential": CREDENTIAL,
        },
        ["type", "uri"],
        additionalProperties=False,
    ),
    "VolumePlace": obj(
        {
            "type": {"const": "volume"},
            "volume_id": {"type": "string", "minLength": 1, "maxLength": 40},
            "path": {
                "type": "string",
                "maxLength": 4096,
                "description": "Folder relative to the volume's root (created if missing)",
            },
            "create_volume": {
                **ref("VolumeCreate"),
                "description": "A download's sink only: create the volume in the same request "
                "(DataCube's PVC template), instead of volume_id; on the platform storage",
            },
        },
        ["type"],
        additionalProperties=False,
        description="volume_id, or (a download's sink) create_volume",
    ),
    "DatasetPlace": obj(
        {
            "type": {"const": "dataset"},
            "version": {**SHORT, "minLength": 1, "description": "A ready version, NAME@N"},
        },
        ["type", "version"],
        additionalProperties=False,
    ),
}
PLACE_OF = {
    "git": "GitPlace",
    "huggingface": "HuggingFacePlace",
    "s3": "S3Place",
    "volume": "VolumePlace",
    "dataset": "DatasetPlace",
}
SOURCE_TYPES = ["git", "huggingface", "s3", "volume", "dataset"]
SINK_TYPES = ["git", "huggingface", "s3", "volume"]


def place(types: list[str], what: str) -> dict[str, Any]:
    return {
        "oneOf": [ref(PLACE_OF[t]) for t in types],
        "description": what,
        "discriminator": {
            "propertyName": "type",
            "mapping": {t: f"#/components/schemas/{PLACE_OF[t]}" for t in types},
        },
    }


REQUESTS: dict[str, Any] = {
    **PLACES,
    "TransferPolicy": obj(
        {
            "backoff_limit": {**INT, "minimum": 0, "maximum": 10, "description": "Retries"},
            "active_deadline_seconds": {
                **nullable(INT),
                "minimum": 1,
                "description": "Limit per attempt",
            },
            "extra_args": {"type": "array", "items": SHORT, "maxItems": 50},
            "env": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 4096},
                "maxProperties": 50,
            },
            "sync": {**BOOL, "description": "S3 downloads only: delete what the source lacks"},
        },
        additionalProperties=False,
    ),
    "TransferDataset": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 128},
            "id": {"type": "string", "minLength": 1, "maxLength": 40},
            "description": {"type": "string", "maxLength": 10_000},
            "data_type": ref("DataType"),
            "visibility": ref("Visibility"),
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 20},
            "message": {"type": "string", "maxLength": 2000},
        },
        additionalProperties=False,
        description="Import as a dataset: a new one (name) or a new version of yours (id)",
    ),
    "TransferCreate": obj(
        {
            "name": SHORT,
            "source": place(
                SOURCE_TYPES,
                "Where from: a remote (download) or a volume folder or dataset version (upload)",
            ),
            "sink": place(SINK_TYPES, "Where to: a volume folder (download) or a remote"),
            "policy": ref("TransferPolicy"),
            "dataset": ref("TransferDataset"),
        },
        ["source", "sink"],
        additionalProperties=False,
        description="A download, upload or import (docs/user/transfers.md)",
    ),
    "CredentialCreate": obj(
        {
            "name": {**CREDENTIAL, "description": "A name to use it by"},
            "type": enum(TOOLS),
            "token": {**LINE, "description": "git, huggingface", "writeOnly": True},
            "username": {**SHORT, "description": "git (optional)"},
            "access_key_id": {**LINE, "description": "s3"},
            "secret_access_key": {**LINE, "description": "s3", "writeOnly": True},
        },
        ["name", "type"],
        additionalProperties=False,
        description="Stored encrypted by the registry; never answered back by any API",
    ),
}

CONDITION = obj(
    {
        "type": enum(["Initialized", "Running", "Complete", "Failed"]),
        "status": enum(["True", "False", "Unknown"]),
        "message": nullable(STR),
        "reason": nullable(STR),
        "last_probe_time": nullable(STR),
        "last_transition_time": nullable(STR),
    },
    ["type", "status"],
)
ATTEMPT = obj(
    {
        "attempt": INT,
        "started_at": nullable(STR),
        "finished_at": nullable(STR),
        "outcome": nullable(STR),
        "reason": nullable(STR),
        "message": nullable(STR),
    },
    ["attempt"],
)
TRANSFER_PROGRESS = obj(
    {"files_done": nullable(INT), "bytes_done": nullable(INT),
     "files_total": nullable(INT), "bytes_total": nullable(INT)},
)  # fmt: skip

ANSWERS: dict[str, Any] = {
    "TransferState": enum(STATES),
    "Transfer": obj(
        {
            "id": STR,
            "name": nullable(STR),
            "owner": STR,
            "direction": enum(["download", "upload"]),
            "tool": enum(TOOLS),
            "source": {"type": "object"},
            "sink": {"type": "object"},
            "policy": nullable({"type": "object"}),
            "dataset": nullable({"type": "object"}),
            "state": ref("TransferState"),
            "reason": {
                **nullable(STR),
                "description": "Why it failed: unauthorized, not-found, unreachable, deadline, "
                "interrupted, killed, nothing-to-push, remote-error, cancelled, failed",
            },
            "error": nullable(STR),
            "conditions": {"type": "array", "items": CONDITION},
            "attempts": INT,
            "attempt_history": {"type": "array", "items": ATTEMPT},
            "progress": TRANSFER_PROGRESS,
            "result": {
                **nullable({"type": "object"}),
                "description": "files, bytes, revision, warnings, path",
            },
            "version": {**nullable(STR), "description": "Imports: the version registered"},
            "job_id": nullable(INT),
            "created_at": nullable(STR),
            "finished_at": nullable(STR),
        },
        ["id", "direction", "tool", "state", "attempts", "progress"],
    ),
    "TransferPage": page("Transfer"),
    "TransferLog": obj(
        {
            "id": STR,
            "offset": INT,
            "next_offset": {**INT, "description": "Pass it as offset to read what came next"},
            "text": {**STR, "description": "Tool output, retries, warnings; secrets redacted"},
        },
        ["offset", "next_offset", "text"],
    ),
    "Credential": obj(
        {
            "name": STR,
            "type": enum(TOOLS),
            "fields": {
                "type": "array",
                "items": STR,
                "description": "Which fields are stored (never their values)",
            },
            "created_at": nullable(STR),
        },
        ["name", "type", "fields"],
        additionalProperties=False,
    ),
    "CredentialList": obj({"items": {"type": "array", "items": ref("Credential")}}, ["items"]),
    "TransferEvent": obj(
        {
            "id": STR,
            "state": ref("TransferState"),
            "direction": STR,
            "tool": STR,
            "attempts": INT,
            "reason": nullable(STR),
            "error": nullable(STR),
            "progress": TRANSFER_PROGRESS,
            "version": nullable(STR),
        },
        ["id", "state"],
        description="data of `event: transfer`",
    ),
}
