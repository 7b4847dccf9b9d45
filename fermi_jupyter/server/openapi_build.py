"""Builds ``openapi.json``, the server extension's contract, from the types it names.

Run ``python -m fermi_jupyter.server.openapi_build`` after changing a route or a shape;
``tests/server/test_openapi.py`` fails while the committed document differs from this output.
Change the contract additively (new fields, new routes, new reasons); the Lab sidebar binds to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..domain.mounts import JSON_SCHEMA as MOUNT_SCHEMA
from ..domain.states import DATA_TYPES, VOLUME_TYPES, JobKind, JobState, Mode, VersionStatus
from ..domain.visibility import Visibility
from ..workspace.reasons import Reason

OPENAPI = Path(__file__).with_name("openapi.json")


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
TIME = {"type": "string", "description": "ISO 8601, UTC"}


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
    "VolumeCreate": obj(
        {
            "name": STR,
            "capacity": {"oneOf": [INT, {**STR, "examples": ["500Gi"]}]},
            "type": ref("VolumeType"),
            "access_mode": enum(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]),
            "zone": STR,
            "team": STR,
            "description": STR,
        },
        ["name"],
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
    "DatasetFields": obj(
        {
            "name": STR,
            "description": STR,
            "tags": {"type": "array", "items": STR, "examples": [["扩增", "清洗", "生产"]]},
            "visibility": ref("Visibility"),
            "team": nullable(STR),
            "data_type": ref("DataType"),
            "zone": nullable(STR),
        },
        additionalProperties=False,
        description="PATCH: only the fields given change",
    ),
    "DatasetCreate": obj(
        {
            "name": STR,
            "description": STR,
            "tags": {"type": "array", "items": STR},
            "visibility": ref("Visibility"),
            "team": STR,
            "data_type": ref("DataType"),
            "zone": STR,
            "version": {
                **ref("VersionCreate"),
                "description": "Register version 1 at once; if that is refused the dataset is "
                "not kept",
            },
        },
        ["name"],
    ),
    "DatasetCreated": obj(
        {"dataset": ref("Dataset"), "version": nullable(ref("Version"))}, ["dataset", "version"]
    ),
    "VersionCreate": obj(
        {
            "path": {
                **STR,
                "description": "Without volume_id: a folder of this server (absolute, or "
                "relative to the server root) inside a mounted volume. With volume_id: a "
                "folder relative to that volume's root.",
            },
            "volume_id": STR,
            "mode": ref("Mode"),
            "message": STR,
            "parents": {
                "type": "array",
                "items": STR,
                "description": "Lineage (ds-…@N). Default: the dataset versions this server mounts",
            },
        },
        ["path"],
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
    "RestoreRequest": obj(
        {
            "path": {
                **STR,
                "description": "A new (or empty) folder: a local path inside a mounted volume, "
                "or with volume_id a path relative to that volume",
            },
            "volume_id": STR,
        },
        ["path"],
    ),
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
    "AliasSet": obj({"version": INT}, ["version"], additionalProperties=False),
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


# -- parameters and operations ----------------------------------------------------------------
def path_param(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STR,
    }


REF = path_param("ref", "Dataset: name, ds-… id, or OWNER/NAME percent-encoded (alice%2Fimagenet)")
SELECTOR = path_param("selector", "Version number, latest, or an alias", r"^[A-Za-z0-9_.\-]+$")
VOLUME = path_param("volume_id", "vol-… id")
LIMIT = query(
    "limit",
    "Page size, 1 to 1000 (default 100)",
    {"type": "integer", "minimum": 1, "maximum": 1000},
)
CURSOR = query("cursor", "next_cursor of the previous page")
PAGING = [LIMIT, CURSOR]
ERR = {"application/json": {"schema": ref("Error")}}


def op(
    summary: str,
    ok: tuple[int, str | None, str],
    params: list[dict[str, Any]] | None = None,
    body: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    status, schema, what = ok
    success: dict[str, Any] = {"description": what}
    if schema:
        success["content"] = {"application/json": {"schema": ref(schema)}}
    out: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(status): success,
            "4XX": {"description": "Refused: {message, reason}", "content": ERR},
            "502": {"description": "The registry cannot be reached", "content": ERR},
            "503": {
                "description": "No registry configured, or no readable mount plan",
                "content": ERR,
            },
        },
    }
    if description:
        out["description"] = description
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return out


DS = "/datasets/{ref}"
V = DS + "/versions/{selector}"
PATHS: dict[str, Any] = {
    "/info": {
        "get": op(
            "This extension: version, who it acts as, whether the registry answers",
            (200, "Info", "Always answers, even without a registry"),
        )
    },
    "/mounts": {
        "get": op(
            "What this server mounts, each dataset mount with its version status",
            (200, "MountList", "Mounts in plan order"),
        )
    },
    "/volumes": {
        "get": op(
            "Volumes you can use, each with where this server mounts it",
            (200, "VolumePage", "A page, by name"),
            [query("q", "Name contains"), *PAGING],
        ),
        "post": op("Create a volume", (201, "Volume", "Created"), body="VolumeCreate"),
    },
    "/volumes/{volume_id}": {
        "get": op("One volume, with fresh usage", (200, "Volume", "The volume"), [VOLUME])
    },
    "/volumes/{volume_id}/tree": {
        "get": op(
            "A page of a folder, or a name search below it",
            (200, "Tree", "A page"),
            [
                VOLUME,
                query("path", "Folder relative to the volume root (default: the root)"),
                query(
                    "q",
                    "Name contains (case-insensitive), searched in every sub folder; each page "
                    "scans a bounded number of entries (truncated: true, next_cursor resumes); "
                    "aborting the request stops the scan",
                ),
                *PAGING,
            ],
            description="Mounted volumes are read from this server's file system without "
            "following symlinks (source: local); others through the registry (source: "
            "registry). Only the entries of the page are stat'ed.",
        )
    },
    "/volumes/{volume_id}/summary": {
        "get": op(
            "Files, bytes and a suggested data type for a folder (the wizard's step 3)",
            (200, "FolderSummary", "Counted"),
            [VOLUME, query("path", "Folder relative to the volume root")],
        )
    },
    "/datasets": {
        "get": op(
            "Datasets you can see: search and filters",
            (200, "DatasetPage", "A page, by name"),
            [
                query("q", "Name or description contains"),
                query(
                    "scope",
                    "all (default), mine, team, org or public",
                    enum(["all", "mine", "team", "org", "public"]),
                ),
                query("tag", "Has this tag"),
                query("owner", "Owned by"),
                query("data_type", "Of this data type", ref("DataType")),
                *PAGING,
            ],
        ),
        "post": op(
            "Create a dataset, optionally with version 1 from a folder",
            (201, "DatasetCreated", "Created; version 1 (if asked) is pending"),
            body="DatasetCreate",
        ),
    },
    DS: {
        "get": op("One dataset", (200, "Dataset", "The dataset"), [REF]),
        "patch": op(
            "Change visibility, team, description, tags, data type, zone or name",
            (200, "Dataset", "Changed"),
            [REF],
            body="DatasetFields",
        ),
        "delete": op(
            "Delete a dataset and all its versions (409 mounted, naming the servers)",
            (204, None, "Deleted"),
            [REF],
        ),
    },
    DS + "/aliases/{name}": {
        "put": op(
            "Set or move an alias to a ready version",
            (200, "Alias", "The alias"),
            [REF, path_param("name", "Alias, e.g. production")],
            body="AliasSet",
        ),
        "delete": op(
            "Remove an alias",
            (204, None, "Removed"),
            [REF, path_param("name", "Alias")],
        ),
    },
    DS + "/versions": {
        "get": op(
            "A dataset's versions, newest first",
            (200, "VersionPage", "A page"),
            [REF, query("status", "Only this status", ref("VersionStatus")), *PAGING],
        ),
        "post": op(
            "Register a folder as a new version (runs as a job; follow it with events)",
            (202, "Version", "Accepted: pending"),
            [REF],
            body="VersionCreate",
        ),
    },
    V: {
        "get": op(
            "One version with status and progress", (200, "Version", "The version"), [REF, SELECTOR]
        ),
        "delete": op(
            "Delete a finished version (409 while mounted, naming the servers; 409 "
            "not-ready while it runs: cancel it first)",
            (204, None, "Deleted"),
            [REF, SELECTOR],
        ),
    },
    V + "/cancel": {
        "post": op(
            "Cancel a registration still pending or processing (409 not-running when done)",
            (202, "Job", "The registration job, cancelling or cancelled"),
            [REF, SELECTOR],
        )
    },
    V + "/verify": {
        "post": op(
            "Recompute the version's manifest and report drift",
            (202, "Job", "Accepted"),
            [REF, SELECTOR],
        )
    },
    V + "/restore": {
        "post": op(
            "Copy the version into a new folder of a volume",
            (202, "Job", "Accepted"),
            [REF, SELECTOR],
            body="RestoreRequest",
        )
    },
    V + "/diff": {
        "get": op(
            "Files added, removed and changed since another version, from the stored manifests",
            (200, "Diff", "The difference against → this version"),
            [
                REF,
                SELECTOR,
                {
                    **query("against", "The base: a selector of this dataset, or NAME@N"),
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                },
                query(
                    "limit",
                    "Most files listed per kind (default 1000)",
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                ),
            ],
        )
    },
    V + "/lineage": {
        "get": op(
            "The versions this one was made from, and those made from it",
            (200, "Lineage", "Parents and children"),
            [REF, SELECTOR],
        )
    },
    V + "/manifest": {
        "get": op(
            "The version's files (path, size, mode, digest), by path",
            (200, "Manifest", "A page"),
            [REF, SELECTOR, *PAGING],
        )
    },
    "/jobs": {
        "get": op(
            "Your jobs, newest first",
            (200, "JobPage", "A page"),
            [query("state", "Only this state", ref("JobState")), *PAGING],
        )
    },
    "/jobs/{job_id}": {
        "get": op(
            "One job with progress and result",
            (200, "Job", "The job"),
            [path_param("job_id", "Job id", r"^[0-9]+$")],
        ),
        "delete": op(
            "Cancel a job",
            (202, "Job", "Cancelling (or already finished)"),
            [path_param("job_id", "Job id", r"^[0-9]+$")],
        ),
    },
    "/events": {
        "get": {
            "summary": "Server-sent events: version status and progress, resumable",
            "description": "`text/event-stream`. Each event has `id:` (pass it back as the "
            "`Last-Event-ID` header or the `last_event_id` query parameter to resume), "
            "`event:` and `data:` (JSON). Events: `version` (VersionEvent, progress "
            "enriched with rate, eta and stalled_since), `resync` (ResyncEvent: events may "
            "have been missed; refetch, then go on). Comments (`: keepalive`) every 15 s. "
            "One upstream connection serves every tab of this server; the stream does not "
            "count as activity for the idle culler.",
            "parameters": [
                query("dataset_id", "Only this dataset"),
                query(
                    "last_event_id", "Resume after this id (for clients that cannot set headers)"
                ),
            ],
            "responses": {
                "200": {
                    "description": "The stream",
                    "content": {"text/event-stream": {"schema": STR}},
                },
                "4XX": {"description": "Refused", "content": ERR},
                "502": {"description": "The registry cannot be reached", "content": ERR},
                "503": {"description": "No registry configured", "content": ERR},
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def build() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fermi_jupyter server extension",
            "version": "2",
            "description": "Volumes and datasets as seen from inside a user's Jupyter server, "
            "under {base_url}api/fermi/. Authenticated like every Jupyter server API "
            "(token or cookie with _xsrf); every registry call is made with this server's "
            "own token, so it acts only as the server's owner. Errors are always JSON "
            "{message, reason} with reason from the Reason enumeration. Lists are "
            "cursor-paginated: pass next_cursor back as cursor until it is null.",
        },
        "servers": [{"url": "/api/fermi"}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "token <Jupyter server token>",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        OPENAPI.write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
