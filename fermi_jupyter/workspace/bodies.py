"""Request bodies: their schemas, and the check every body passes before any verb runs.

A body of the wrong shape is refused whole with one sentence naming the field, e.g.
``mode must be one of snapshot, reference``; the verbs then only see well-typed input. The
schemas are bounded (lengths, list sizes) and closed (unknown fields are refused); the OpenAPI
document publishes them beside the answers' shapes (``workspace.shapes``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .errors import WorkspaceError
from .reasons import Reason
from .shapes import INT, SCHEMAS, STR, enum, obj, ref
from .transfer_shapes import ANSWERS as TRANSFER_ANSWERS
from .transfer_shapes import REQUESTS as TRANSFER_REQUESTS

Json = dict[str, Any]
# fields: bounded as the registry stores them, so a body is refused whole, with a sentence,
# before any verb runs (and before a database could refuse it less kindly)
TEXT = {"type": "string", "maxLength": 255}
NAME = {"type": "string", "minLength": 1, "maxLength": 128}
ZONE = {"type": ["string", "null"], "maxLength": 64}
TEAM = {"type": ["string", "null"], "maxLength": 255, "description": "A JupyterHub group"}
ID = {"type": "string", "minLength": 1, "maxLength": 40}
PATH = {"type": "string", "maxLength": 4096}
TAGS = {
    "type": "array",
    "items": {"type": "string", "maxLength": 64},
    "maxItems": 20,
    "examples": [["扩增", "清洗", "生产"]],
}


def text(limit: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": limit}


REQUESTS: dict[str, Any] = {
    "VolumeCreate": obj(
        {
            "name": NAME,
            "capacity": {
                "oneOf": [
                    {**INT, "minimum": 1, "maximum": 2**50},
                    {**STR, "minLength": 1, "maxLength": 32},
                ],
                "description": "Bytes, or a size such as 500Gi (default 100Gi)",
                "examples": ["500Gi"],
            },
            "type": ref("VolumeType"),
            "access_mode": enum(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]),
            "zone": ZONE,
            "team": TEAM,
            "description": text(2000),
            "backend": enum(["root", "pvc"], "root: on the platform storage (default)"),
            "pvc_name": {**text(253), "description": "An existing PVC, with backend pvc"},
        },
        ["name"],
        additionalProperties=False,
    ),
    "DatasetFields": obj(
        {
            "name": NAME,
            "description": text(10_000),
            "tags": TAGS,
            "visibility": ref("Visibility"),
            "team": TEAM,
            "data_type": ref("DataType"),
            "zone": ZONE,
        },
        additionalProperties=False,
        description="PATCH: only the fields given change",
    ),
    "DatasetCreate": obj(
        {
            "name": NAME,
            "description": text(10_000),
            "tags": TAGS,
            "visibility": ref("Visibility"),
            "team": TEAM,
            "data_type": ref("DataType"),
            "zone": ZONE,
            "version": {
                **ref("VersionCreate"),
                "description": "Register version 1 at once; if that is refused the dataset is "
                "not kept",
            },
        },
        ["name"],
        additionalProperties=False,
    ),
    "VersionCreate": obj(
        {
            "path": {
                **PATH,
                "description": "Without volume_id: a folder of this server (absolute, or "
                "relative to the server root) inside a mounted volume. With volume_id: a "
                "folder relative to that volume's root.",
            },
            "volume_id": ID,
            "mode": ref("Mode"),
            "message": {"type": "string", "maxLength": 2000},
            "parents": {
                "type": "array",
                "items": TEXT,
                "maxItems": 50,  # as the registry allows
                "description": "Lineage (ds-…@N). Default: the dataset versions this server mounts",
            },
        },
        ["path"],
        additionalProperties=False,
    ),
    "RestoreRequest": obj(
        {
            "path": {
                **PATH,
                "description": "A new (or empty) folder: a local path inside a mounted volume, "
                "or with volume_id a path relative to that volume",
            },
            "volume_id": ID,
        },
        ["path"],
        additionalProperties=False,
    ),
    "AliasSet": obj({"version": {**INT, "minimum": 1}}, ["version"], additionalProperties=False),
}
ALL_SCHEMAS = {**SCHEMAS, **TRANSFER_ANSWERS, **REQUESTS, **TRANSFER_REQUESTS}
KINDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a JSON object",
    "null": "null",
}


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": ALL_SCHEMAS}}
    return Draft202012Validator(root)


def check(body: Any, schema: str, at: tuple[str, ...] = ()) -> Json:
    """``body`` when it fits ``components/schemas/<schema>``; else ``WorkspaceError``.
    ``at``: where ``body`` sits in the request, for the sentence (e.g. ``("source",)``)."""
    if not isinstance(body, dict):
        what = _field(at) if at else "the request body"
        raise WorkspaceError(f"{what} must be a JSON object", Reason.invalid_json)
    error = best_match(_validator(schema).iter_errors(body))
    if error is not None:
        root = error
        while root.parent is not None:
            root = root.parent
        root.path.extendleft(reversed(at))
        raise WorkspaceError(sentence(error), Reason.invalid_parameter)
    return body


def _field(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the body"


def sentence(error: ValidationError) -> str:
    """What is wrong with one field, for people."""
    field, rule, value, schema = (
        _field(error.absolute_path),
        error.validator,
        error.validator_value,
        error.schema,
    )
    if rule == "required":
        missing = next((k for k in value if k not in (error.instance or {})), "a field")
        return f"{_field([*error.absolute_path, missing])} is required"
    if rule == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        known = ", ".join(schema.get("properties", {}))
        return f"unknown field {', '.join(map(str, extra))[:80]} (known: {known})"
    if rule == "type" and "enum" in schema:
        return f"{field} must be one of " + ", ".join(map(str, schema["enum"]))
    if rule == "type":
        kinds = value if isinstance(value, list) else [value]
        return f"{field} must be " + " or ".join(KINDS.get(k, k) for k in kinds)
    if rule == "enum":
        return f"{field} must be one of " + ", ".join(map(str, value))
    if rule in ("minimum", "maximum"):
        low, high = schema.get("minimum", "-∞"), schema.get("maximum", "∞")
        return f"{field} must be between {low} and {high}"
    if rule in ("minLength", "maxLength"):
        low, high = schema.get("minLength", 0), schema.get("maxLength", "any number of")
        return f"{field} must have {low} to {high} characters"
    if rule in ("minItems", "maxItems"):
        return f"{field} may list at most {schema.get('maxItems')} entries"
    if rule in ("oneOf", "anyOf"):
        return f"{field} has the wrong type" + (
            f": {schema['description']}" if "description" in schema else ""
        )
    return f"{field}: {error.message}"[:300]
