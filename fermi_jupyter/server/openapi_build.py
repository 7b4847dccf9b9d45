"""Builds ``openapi.json``, the server extension's contract: the routes here, the shapes from
``workspace.shapes``.

Run ``python -m fermi_jupyter.server.openapi_build --write`` after changing a route or a shape;
``tests/server/test_contract.py`` fails while the committed document differs from this output.
Change the contract additively (new fields, new routes, new reasons); the Lab sidebar binds to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..workspace.bodies import ALL_SCHEMAS
from ..workspace.shapes import STR, enum, ref
from .openapi_transfers import transfer_paths

OPENAPI = Path(__file__).with_name("openapi.json")


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
            "Cancel a registration still pending or processing: the dataset's owner, an admin "
            "or whoever started it may (403 not-cancellable otherwise; 409 not-running when it "
            "has finished — a finished version is never touched)",
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
    "/audit": {
        "get": op(
            "What you did (what everyone did, for an admin), newest first",
            (200, "AuditPage", "A page"),
            [
                query("action", "Only this action, e.g. dataset.delete"),
                query("actor", "Only what this user did"),
                query("target", "Only about this ds-…, ds-…@N or vol-…"),
                *PAGING,
            ],
        )
    },
    "/mount-records": {
        "get": op(
            "Which dataset versions your running servers mount (recorded at spawn; a mounted "
            "version cannot be deleted)",
            (200, "MountRecordList", "The records"),
            [query("server", "Only this server (user or user/servername)")],
        )
    },
    **transfer_paths(),
    "/events": {
        "get": {
            "summary": "Server-sent events: version status and progress, resumable",
            "description": "`text/event-stream`. Each event has `id:` (pass it back as the "
            "`Last-Event-ID` header or the `last_event_id` query parameter to resume), "
            "`event:` and `data:` (JSON). Events: `version` (VersionEvent, progress "
            "enriched with rate, eta and stalled_since), `transfer` (TransferEvent), "
            "`resync` (ResyncEvent: events may have been missed; refetch, then go on). "
            "Comments (`: keepalive`) every 15 s. "
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
                },
                "4XX": {"description": "Not logged in", "content": ERR},
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
            "schemas": ALL_SCHEMAS,
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
