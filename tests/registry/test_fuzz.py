"""Schemathesis against the registry's OpenAPI document, on SQLite and PostgreSQL: random and
boundary requests to every operation, as a user who owns data. No response is a 5xx, and every
response matches the document (status, content type, body schema — errors included).

The event stream is left out (it never ends); tests/registry/test_events.py covers it.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from fermi_jupyter.registry.bodies import openapi

from ..support.trees import make_tree, wait_version


def _document() -> dict:
    doc = openapi()
    paths = {p: ops for p, ops in doc["paths"].items() if p != "/events"}
    return {**doc, "servers": [{"url": "/api/v1"}], "paths": paths}


registry_api = schemathesis.openapi.from_dict(_document())
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_world(reg):
    with reg["alice"] as c:  # something real to find: a volume, a dataset with a ready version
        vol = c.post("/volumes", json={"name": "fuzz-vol"}).json()
        make_tree(reg.storage_root / "volumes" / vol["id"] / "data", 2, 10)
        ds = c.post("/datasets", json={"name": "fuzz", "visibility": "org"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"})
        wait_version(c, ds["id"], 1)
    return ds


@registry_api.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_5xx_and_every_response_as_documented(case, reg, fuzz_world):
    case.call_and_validate(
        base_url=f"http://127.0.0.1:{reg.port}/api/v1",
        headers={"Authorization": "token tok-alice"},
        checks=CHECKS,
        timeout=30,
    )
