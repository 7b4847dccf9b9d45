"""The OpenAPI document kept in the repository matches the routes the registry serves."""

import json
import re

from fermi_jupyter.registry.handlers import routes
from fermi_jupyter.registry.handlers.meta import OPENAPI

HTTP_VERBS = {"get", "post", "put", "patch", "delete"}


def _template(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def test_every_api_route_and_verb_is_documented():
    doc = json.loads(OPENAPI.read_text())
    served = {}
    for pattern, handler in routes("/"):
        if not pattern.startswith("/api/v1"):
            continue
        verbs = {
            v
            for v in HTTP_VERBS
            if v in handler.__dict__
            or any(
                v in base.__dict__
                for base in handler.__mro__[1:-1]
                if base.__module__.startswith("fermi_jupyter")
            )
        }
        served[_template(pattern)[len("/api/v1") :]] = verbs
    assert set(served) == set(doc["paths"])
    for path, verbs in served.items():
        documented = set(doc["paths"][path]) & HTTP_VERBS
        assert verbs == documented, path


def _reasons_in_source() -> dict[str, str]:
    """Every reason code the registry's source can raise: ``reason="…"`` / ``reason=Reason.x``
    arguments of a registry or storage error, ``reason = "…"`` class attributes, and storage
    errors' second argument. (Builtin exceptions, the worker protocol's BatchError, a transfer
    Job's KubeError and ``reason=`` in plain records — a transfer attempt's — are not answers.)"""
    import ast
    import builtins
    from pathlib import Path

    import fermi_jupyter.registry as pkg
    from fermi_jupyter.registry.errors import Reason

    builtin = {n for n in dir(builtins) if n.endswith("Error")} | {"BatchError", "KubeError"}
    found: dict[str, str] = {}
    for path in Path(pkg.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            values = []
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "reason" for t in node.targets
            ):
                values.append(node.value)
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                is_error = name not in builtin and (
                    name.endswith("Error")
                    or name in ("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict")
                )
                if is_error:
                    values += [k.value for k in node.keywords if k.arg == "reason"]
                    if len(node.args) >= 2:
                        values.append(node.args[1])
            for v in values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str):
                    found[v.value] = f"{path.name}:{v.lineno}"
                elif isinstance(v, ast.Attribute) and getattr(v.value, "id", "") == "Reason":
                    found[Reason[v.attr].value] = f"{path.name}:{v.lineno}"
    return found


def test_every_reason_raised_is_enumerated_in_the_document():
    from fermi_jupyter.registry.errors import Reason

    doc = json.loads(OPENAPI.read_text())
    listed = doc["components"]["schemas"]["Error"]["properties"]["reason"]["enum"]
    assert listed == [r.value for r in Reason]
    raised = _reasons_in_source()
    unlisted = {code: where for code, where in raised.items() if code not in listed}
    assert not unlisted, f"reasons raised but not in errors.Reason / openapi.json: {unlisted}"
    assert len(raised) > 20  # the scan found the raises


def test_error_body_is_exactly_message_and_reason():
    doc = json.loads(OPENAPI.read_text())
    error = doc["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"message", "reason"} == set(error["required"])
    assert error["additionalProperties"] is False


def test_every_request_body_has_a_strict_schema():
    from fermi_jupyter.domain.mounts import MAX_MOUNTS
    from fermi_jupyter.registry import bodies

    doc = json.loads(OPENAPI.read_text())
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for verb, op in ops.items():
            if verb in HTTP_VERBS and verb in ("post", "put", "patch") and "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[-1]
                assert schemas[name]["additionalProperties"] is False, (path, verb)
                bodies.validator(name)  # compiles
    assert schemas["MountRecords"]["properties"]["mounts"]["maxItems"] == MAX_MOUNTS

    # every string a body can carry has a bound, so none can exceed its column
    def strings(schema):  # type: ignore[no-untyped-def]
        if isinstance(schema, dict):
            t = schema.get("type")
            if t == "string" or (isinstance(t, list) and "string" in t):
                yield schema
            for v in schema.values():
                yield from strings(v)
        elif isinstance(schema, list):
            for v in schema:
                yield from strings(v)

    for name in ("VolumeCreate", "DatasetCreate", "DatasetUpdate", "Registration", "Restore"):
        assert all("maxLength" in s for s in strings(schemas[name])), name
