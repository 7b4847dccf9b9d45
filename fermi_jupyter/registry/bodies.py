"""Request bodies checked at the edge: parsed, bounded, then validated against the schema the
OpenAPI document gives for that body — so managers only ever see well-typed, in-range input.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .errors import BadRequest, Reason

OPENAPI_PATH = Path(__file__).parent / "openapi.json"
MAX_DEPTH = 16  # no request body of this API nests deeper than 4
MAX_MESSAGE = 300


@functools.cache
def openapi() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text())


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    doc = openapi()
    if schema_name not in doc["components"]["schemas"]:
        raise KeyError(f"no schema {schema_name!r} in the OpenAPI document")
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    return Draft202012Validator(root)


def parse(raw: bytes, schema_name: str) -> dict[str, Any]:
    """The JSON object in ``raw``, valid for ``schema_name``; ``BadRequest`` otherwise."""
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON", reason=Reason.invalid_json) from None
    _check_shape(body)
    error = best_match(validator(schema_name).iter_errors(body))
    if error is not None:
        raise BadRequest(describe(error), reason=Reason.invalid_body)
    return body


def parse_object(raw: bytes) -> dict[str, Any]:
    """A JSON object, shape-checked, for bodies whose manager checks each field itself with
    its own messages and reason (transfers, credentials)."""
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON", reason=Reason.invalid_json) from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", reason=Reason.invalid_body)
    _check_shape(body)
    return body


def _check_shape(body: Any) -> None:
    """Refuse deep nesting and NUL characters (no database stores them) without recursion."""
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(
                f"the request body nests deeper than {MAX_DEPTH} levels", reason=Reason.invalid_body
            )
        if isinstance(value, str):
            if "\x00" in value:
                raise BadRequest("text may not contain NUL characters", reason=Reason.invalid_body)
        elif isinstance(value, dict):
            for k, v in value.items():
                stack.append((k, depth))
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def describe(error: ValidationError) -> str:
    """One readable sentence naming the field, e.g. ``tags[0] must be a string``."""
    where = _where(error.absolute_path)
    kind, want = error.validator, error.validator_value
    if kind == "required":
        missing = next((k for k in want if k not in (error.instance or {})), "a field")
        text = f"{_where([*error.absolute_path, missing])} is required"
    elif kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        text = f"unknown field(s) in {where}: {', '.join(map(str, extra))[:100]}"
    elif kind == "type":
        types = want if isinstance(want, list) else [want]
        text = f"{where} must be " + " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    elif kind == "enum":
        text = f"{where} must be one of " + ", ".join(str(v) for v in want)
    elif kind in ("minimum", "maximum"):
        s = error.schema
        text = f"{where} must be between {s.get('minimum', '-∞')} and {s.get('maximum', '∞')}"
    elif kind in ("minLength", "maxLength"):
        s = error.schema
        text = f"{where} must have {s.get('minLength', 0)} to {s.get('maxLength', '∞')} characters"
    elif kind in ("minItems", "maxItems"):
        s = error.schema
        text = f"{where} must list {s.get('minItems', 0)} to {s.get('maxItems', '∞')} entries"
    elif kind == "pattern":
        text = f"{where} has characters that are not allowed"
    elif kind in ("oneOf", "anyOf"):
        text = f"{where} has the wrong type" + (
            f": {error.schema['description']}" if "description" in error.schema else ""
        )
    elif kind == "minProperties":
        text = f"{where} must name at least one field"
    else:
        text = f"{where}: {error.message}"
    return text[:MAX_MESSAGE]


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the body"
