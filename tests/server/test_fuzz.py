"""Schemathesis against the server extension's OpenAPI document, in a real Jupyter server
(pytest-jupyter) whose registry is the real one behind a real hub, on SQLite and PostgreSQL.

Random, boundary and schema-violating requests at every operation: no response is a 5xx, and
every response is one the document allows (status, content type, body schema — errors
included). Parameters name real things as examples, and often while fuzzing (a dataset with
three versions and an alias, a mounted volume, a job), so requests reach past the 404s. The
fuzzing user is its own ("fuzz"): what it creates and deletes touches no other test's data.

The event stream is left out (it never ends); tests/server/test_contract.py covers it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from fermi_jupyter.domain.mounts import Mount, MountKind, encode
from fermi_jupyter.server import openapi_build

from ..cli.conftest import Server
from ..support.trees import change_some, make_tree, wait_job, wait_version

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


# examples in the document: names that exist once the fixture ran, and stand-ins for ids only
# known then (the test puts the id in before sending)
EXAMPLES = {
    "ref": ["FUZZ-DATASET", "fuzz-ds", "fuzz/fuzz-ds"],
    "selector": ["1", "2", "3", "latest", "prod"],
    "volume_id": ["FUZZ-VOLUME"],
    "job_id": ["990001"],
    "name": ["prod", "staging"],
    "against": ["1", "prod", "fuzz-ds@3"],
}
REAL: dict[str, str] = {}  # stand-in → id, filled by the fixture


def _document() -> dict[str, Any]:
    """The committed document, without the endless event stream, with examples that name
    real things."""
    doc = json.loads(openapi_build.OPENAPI.read_text())
    doc["paths"].pop("/events")
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["name"] in EXAMPLES:
                    values = EXAMPLES[param["name"]]
                    param["examples"] = {f"e{i}": {"value": v} for i, v in enumerate(values)}
    return doc


schema = schemathesis.openapi.from_dict(_document())


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """While fuzzing: half the time the generated parameters, else real ones put in."""
    real = {k: v for k, v in EXAMPLES.items() if k in (path_parameters or {})}
    if not real:
        return st.just(path_parameters)
    chosen = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in real.items()})
    return st.one_of(st.just(path_parameters), chosen.map(lambda c: {**path_parameters, **c}))


@pytest.fixture(scope="module")
def server(hub) -> Server:
    """The fuzzing user's server: a volume, a dataset with three versions (1 mounted here and
    recorded as mounted, so deleting it is refused), an alias, a finished job."""
    token = hub.create_user("fuzz")
    with hub.client(token) as c:
        vol = c.post("/volumes", json={"name": "fuzz-work", "capacity": "1Gi"}).json()
        workspace = hub.storage_root / "volumes" / vol["id"]
        make_tree(workspace / "data", 6, 300, seed=71)
        ds = c.post("/datasets", json={"name": "fuzz-ds", "visibility": "private"}).json()
        for n in (1, 2, 3):
            if n > 1:
                change_some(workspace / "data", 0.5, seed=70 + n)
            r = c.post(
                f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "data"}
            )
            assert r.status_code == 202, r.text
            assert wait_version(c, ds["id"], n)["status"] == "ready"
        c.put(f"/datasets/{ds['id']}/aliases/prod", json={"version": 2}).raise_for_status()
        job = c.post(f"/datasets/{ds['id']}/versions/1/verify").json()
        wait_job(c, job["id"])
        mounted = c.put(
            "/mounts/fuzz", json={"mounts": [{"version": f"{ds['id']}@1", "mount_path": "/d"}]}
        )
        mounted.raise_for_status()
    REAL.update({"FUZZ-DATASET": ds["id"], "FUZZ-VOLUME": vol["id"], "990001": str(job["id"])})
    mounts = [
        Mount(
            kind=MountKind.dataset,
            dataset_id=ds["id"],
            dataset_name=ds["name"],
            version=1,
            mount_path=str(hub.storage_root / "datasets" / ds["id"] / "1"),
            read_only=True,
        ),
        Mount(
            kind=MountKind.volume,
            volume_id=vol["id"],
            volume_name=vol["name"],
            mount_path=str(workspace),
            read_only=False,
        ),
    ]
    env = {
        "FERMI_MOUNTS": encode(mounts),
        "FERMI_REGISTRY_URL": hub.registry_url,
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_USER": "fuzz",
    }
    return Server(env, workspace, hub.storage_root / "datasets" / ds["id"] / "1", ds, vol)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_as_documented(
    case, server, http_server, jp_asyncio_loop, jp_http_port, jp_base_url, jp_auth_header
):
    case.headers = {**(case.headers or {}), **jp_auth_header}  # logins are tested elsewhere
    if case.path_parameters:
        case.path_parameters = {
            k: REAL.get(v, v) if isinstance(v, str) else v for k, v in case.path_parameters.items()
        }
    call = functools.partial(
        case.call_and_validate,
        base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}api/fermi",
        checks=CHECKS,
        timeout=30,
    )
    # the server runs on this loop: let it serve while the request is made from a thread
    jp_asyncio_loop.run_until_complete(asyncio.to_thread(call))
