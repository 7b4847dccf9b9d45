"""The JSON shapes of the notebook side: what the workspace manager accepts and answers.

The server extension's OpenAPI document (``server/openapi_build.py``) publishes them under
``components/schemas``; request bodies are validated against them (``workspace.bodies``) before
any verb runs, in the extension and in the CLI and magics alike. Change them additively: the
Lab sidebar binds to them.
"""

from __future__ import annotations

from typing import Any

from ..domain.mounts import JSON_SCHEMA as MOUNT_SCHEMA
from ..domain.states import DATA_TYPES, VOLUME_TYPES, JobKind, JobState, Mode, VersionStatus
from ..domain.visibility import Visibility
from .reasons import Reason


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema or "enum" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def page(item: str) -> dict[str, Any]:
    return obj(
        {"items": {"type": "array", "items": ref(item)}, "next_cursor": nullable(STR)},
        ["items", "next_cursor"],
    )


def enum(values: list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "enum": values}
    if description:
        out["description"] = description
    return out


PROGRESS = obj(
    {
        "files_done": nullable(INT),
        "files_total": nullable(INT),
        "bytes_done": nullable(INT),
        "bytes_total": nullable(INT),
        "rate_bytes_per_s": {
            **nullable(NUM),
            "description": "Bytes per second over the last samples this server saw; null "
            "until two samples exist",
        },
        "rate_files_per_s": nullable(NUM),
        "eta_seconds": {
            **nullable(NUM),
            "description": "Seconds left at the current rate (null when unknown)",
        },
        "updated_at": {**nullable(STR), "description": "When progress last moved (ISO 8601)"},
        "stalled_since": {
            **nullable(STR),
            "description": "Set when progress has not moved for stall_after seconds (see "
            "c.FermiExtension.stall_after): the time it last moved",
        },
    },
    ["files_done", "files_total", "bytes_done", "bytes_total"],
)

MOUNT_PROPS = dict(MOUNT_SCHEMA["properties"])
SCHEMAS: dict[str, Any] = {
    "Reason": {
        "type": "string",
        "enum": [r.value for r in Reason],
        "description": "Machine-readable error code. "
        + " ".join(f"`{r.value}` ({r.status}): {r.description}" for r in Reason),
    },
    "Error": obj(
        {"message": {**STR, "description": "A sentence for people"}, "reason": ref("Reason")},
        ["message", "reason"],
        additionalProperties=False,
    ),
    "VersionStatus": enum([s.value for s in VersionStatus]),
    "JobState": enum([s.value for s in JobState]),
    "JobKind": enum([k.value for k in JobKind]),
    "Mode": enum(
        [m.value for m in Mode], "snapshot: copied and de-duplicated; reference: in place"
    ),
    "Visibility": enum([v.value for v in Visibility]),
    "DataType": enum(list(DATA_TYPES)),
    "VolumeType": enum(list(VOLUME_TYPES), " ".join(f"{k}: {v}." for k, v in VOLUME_TYPES.items())),
    "Progress": PROGRESS,
    "Mount": MOUNT_SCHEMA,
    "MountEntry": obj(
        {
            **MOUNT_PROPS,
            "label": {**STR, "description": "imagenet@3, or the volume's name"},
            "status": {
                **nullable(ref("VersionStatus")),
                "description": "A dataset mount's version status; null for volumes, or when "
                "the registry cannot be asked",
            },
            "present": {**BOOL, "description": "The mount path exists in this server"},
            "browser_path": {
                **nullable(STR),
                "description": "The mount as a path of Lab's file browser (relative to the "
                "server root), null when the browser cannot reach it",
            },
        },
        ["kind", "mount_path", "read_only", "label", "status", "present", "browser_path"],
    ),
    "MountList": obj(
        {
            "items": {"type": "array", "items": ref("MountEntry")},
            "registry_error": {
                **nullable(ref("Error")),
                "description": "Why statuses are missing, when the registry could not be asked",
            },
        },
        ["items", "registry_error"],
    ),
    "Usage": obj({"bytes": INT, "files": INT, "computed_at": STR}, ["bytes", "files"]),
    "Volume": obj(
        {
            "id": STR,
            "name": STR,
            "owner": STR,
            "team": nullable(STR),
            "description": STR,
            "capacity_bytes": INT,
            "type": STR,
            "type_hint": {**STR, "description": "Which work this type suits, for people"},
            "access_mode": STR,
            "zone": nullable(STR),
            "backend": enum(["root", "pvc"]),
            "pvc_name": nullable(STR),
            "created_at": nullable(STR),
            "usage": {
                **nullable(ref("Usage")),
                "description": "Bytes and files used (from the registry, refreshed in the "
                "background); compare with capacity_bytes for the bar",
            },
            "mount_path": {
                **nullable(STR),
                "description": "Where this server mounts the volume, null when not mounted here",
            },
        },
        ["id", "name", "owner", "capacity_bytes", "type", "usage", "mount_path"],
    ),
    "VolumePage": page("Volume"),
    "TreeEntry": obj(
        {
            "name": STR,
            "path": {**STR, "description": "Relative to the volume root"},
            "type": enum(["dir", "file", "symlink", "other"]),
            "size": nullable(INT),
            "mtime": nullable(NUM),
        },
        ["name", "path", "type", "size", "mtime"],
    ),
    "Tree": obj(
        {
            "volume_id": STR,
            "path": STR,
            "q": nullable(STR),
            "source": enum(
                ["local", "registry"],
                "local: read from this server's mount; registry: through the registry",
            ),
            "mount_path": nullable(STR),
            "items": {"type": "array", "items": ref("TreeEntry")},
            "next_cursor": nullable(STR),
            "truncated": {
                **BOOL,
                "description": "A search stopped at its scan budget: next_cursor resumes it",
            },
        },
        ["volume_id", "path", "source", "items", "next_cursor", "truncated"],
    ),
    "FolderSummary": obj(
        {
            "volume_id": STR,
            "path": STR,
            "files": INT,
            "dirs": INT,
            "bytes": INT,
            "by_data_type": {"type": "object", "additionalProperties": INT},
            "extensions": {
                "type": "object",
                "additionalProperties": INT,
                "description": "The 20 most common file extensions and their counts",
            },
            "suggested_data_type": ref("DataType"),
            "truncated": {**BOOL, "description": "Counted only the first scan_budget entries"},
        },
        ["volume_id", "path", "files", "bytes", "suggested_data_type", "truncated"],
    ),
    "Dataset": obj(
        {
            "id": STR,
            "name": STR,
            "owner": STR,
            "team": nullable(STR),
            "visibility": ref("Visibility"),
            "data_type": STR,
            "description": STR,
            "zone": nullable(STR),
            "tags": {"type": "array", "items": STR},
            "latest": {**nullable(INT), "description": "Newest ready version"},
            "aliases": {"type": "object", "additionalProperties": INT},
            "created_at": nullable(STR),
            "updated_at": nullable(STR),
            "mounted_here": {
                "type": "array",
                "items": INT,
                "description": "Version numbers this server mounts",
            },
        },
        ["id", "name", "owner", "visibility", "tags", "latest", "aliases", "mounted_here"],
    ),
    "DatasetPage": page("Dataset"),
    "DatasetCreated": obj(
        {"dataset": ref("Dataset"), "version": nullable(ref("Version"))}, ["dataset", "version"]
    ),
    "Version": obj(
        {
            "dataset_id": STR,
            "dataset_name": nullable(STR),
            "number": INT,
            "ref": {**STR, "description": "ds-…@N"},
            "label": {**STR, "description": "name@N for people"},
            "status": ref("VersionStatus"),
            "mode": ref("Mode"),
            "source": obj({"volume_id": nullable(STR), "path": nullable(STR)}),
            "message": STR,
            "error": nullable(STR),
            "progress": ref("Progress"),
            "files": nullable(INT),
            "bytes": nullable(INT),
            "new_bytes": nullable(INT),
            "digest": nullable(STR),
            "warnings": {"type": "array", "items": STR},
            "parents": {"type": "array", "items": STR},
            "aliases": {"type": "array", "items": STR},
            "mounted": {**nullable(BOOL), "description": "Mounted by any running server"},
            "mounted_here": {**BOOL, "description": "Mounted by this server"},
            "created_by": STR,
            "created_at": nullable(STR),
            "ready_at": nullable(STR),
            "verified_at": nullable(STR),
        },
        ["dataset_id", "number", "ref", "label", "status", "mode", "progress", "mounted_here"],
    ),
    "VersionPage": page("Version"),
    "Job": obj(
        {
            "id": INT,
            "kind": ref("JobKind"),
            "state": ref("JobState"),
            "version": {**nullable(STR), "description": "ds-…@N the job works on"},
            "params": {"type": "object"},
            "result": nullable({"type": "object"}),
            "error": nullable(STR),
            "attempts": INT,
            "progress": ref("Progress"),
            "created_by": STR,
            "created_at": nullable(STR),
            "started_at": nullable(STR),
            "finished_at": nullable(STR),
        },
        ["id", "kind", "state", "version", "progress"],
    ),
    "JobPage": page("Job"),
    "Alias": obj(
        {"dataset_id": STR, "name": STR, "version": INT}, ["dataset_id", "name", "version"]
    ),
    "FileSize": obj({"path": STR, "size": INT}, ["path", "size"]),
    "FileChange": obj(
        {"path": STR, "size_before": INT, "size_after": INT},
        ["path", "size_before", "size_after"],
    ),
    "Diff": obj(
        {
            "base": {**STR, "description": "ds-…@N compared against"},
            "target": {**STR, "description": "ds-…@N"},
            "added": {"type": "array", "items": ref("FileSize")},
            "removed": {"type": "array", "items": ref("FileSize")},
            "changed": {"type": "array", "items": ref("FileChange")},
            "counts": obj(
                {"added": INT, "removed": INT, "changed": INT, "unchanged": INT},
                ["added", "removed", "changed", "unchanged"],
            ),
            "bytes": obj(
                {"added": INT, "removed": INT, "changed_before": INT, "changed_after": INT},
                ["added", "removed", "changed_before", "changed_after"],
            ),
            "truncated": {
                **BOOL,
                "description": "The lists hold the first `limit` of each kind; counts and "
                "bytes are always complete",
            },
        },
        ["base", "target", "added", "removed", "changed", "counts", "bytes", "truncated"],
    ),
    "LineageNode": obj(
        {
            "ref": STR,
            "label": STR,
            "dataset_id": STR,
            "dataset_name": nullable(STR),
            "owner": nullable(STR),
            "number": INT,
            "status": nullable(ref("VersionStatus")),
            "visible": {
                **BOOL,
                "description": "false: a parent you may not see (only its ref is shown)",
            },
        },
        ["ref", "label", "dataset_id", "number", "status", "visible"],
    ),
    "Lineage": obj(
        {
            "version": ref("LineageNode"),
            "parents": {"type": "array", "items": ref("LineageNode")},
            "children": {
                "type": "array",
                "items": ref("LineageNode"),
                "description": "Versions (that you can see) registered from this one",
            },
        },
        ["version", "parents", "children"],
    ),
    "Manifest": obj(
        {
            "ref": STR,
            "digest": nullable(STR),
            "files": nullable(INT),
            "bytes": nullable(INT),
            "items": {
                "type": "array",
                "items": obj(
                    {"path": STR, "size": INT, "mode": STR, "digest": STR},
                    ["path", "size", "digest"],
                ),
            },
            "next_cursor": nullable(STR),
        },
        ["ref", "items", "next_cursor"],
    ),
    "AuditEvent": obj(
        {
            "id": INT,
            "at": nullable(STR),
            "actor": STR,
            "action": {**STR, "description": "e.g. dataset.create, version.delete, mount.record"},
            "target": {**STR, "description": "The ds-…, ds-…@N, vol-… or server it concerns"},
            "detail": {"type": ["object", "null"]},
        },
        ["id", "at", "actor", "action", "target"],
    ),
    "AuditPage": page("AuditEvent"),
    "MountRecord": obj(
        {
            "server": {**STR, "description": "user or user/servername"},
            "owner": STR,
            "version": {**STR, "description": "ds-…@N"},
            "mount_path": STR,
            "created_at": nullable(STR),
        },
        ["server", "owner", "version", "mount_path"],
    ),
    "MountRecordList": obj(
        {"items": {"type": "array", "items": ref("MountRecord")}},
        ["items"],
        description="What your running servers mount (every server's, for an admin)",
    ),
    "Info": obj(
        {
            "version": {**STR, "description": "fermi_jupyter's version"},
            "user": {**nullable(STR), "description": "Who this server acts as"},
            "registry_configured": BOOL,
            "registry_reachable": BOOL,
            "registry_error": nullable(ref("Error")),
            "mounts": {**INT, "description": "How many mounts this server has"},
            "stall_after": {**NUM, "description": "Seconds without progress before stalled"},
            "reasons": {"type": "array", "items": ref("Reason")},
        },
        ["version", "registry_configured", "registry_reachable", "mounts"],
    ),
    "VersionEvent": obj(
        {
            "dataset_id": STR,
            "dataset_name": nullable(STR),
            "number": INT,
            "ref": STR,
            "status": ref("VersionStatus"),
            "error": nullable(STR),
            "progress": ref("Progress"),
            "job_id": INT,
            "job_kind": ref("JobKind"),
            "job_state": ref("JobState"),
            "seq": INT,
        },
        ["dataset_id", "number", "ref", "status"],
        description="data of `event: version`",
    ),
    "ResyncEvent": obj(
        {
            "reason": enum(
                ["replay-unavailable", "registry-restarted", "upstream-reconnected"],
                "Why events may have been missed",
            ),
            "last_event_id": nullable(STR),
        },
        ["reason"],
        description="data of `event: resync`: refetch what you show (a snapshot), then go on",
    ),
}
