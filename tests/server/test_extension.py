"""The server extension in a real Jupyter server (pytest-jupyter) against the real registry
behind a real hub: mounts, browsing, registering a local path, lineage, refusals."""

from __future__ import annotations

import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from ..support.trees import independent_digest, make_slow_tree, make_tree


@pytest.fixture
def fetch(jp_fetch, jp_asyncio_loop, jp_http_port, jp_base_url, jp_auth_header):
    """Synchronous calls into the async test server (keeps pytest-asyncio out of it). Parts
    are sent as given, so ``alice%2Fname`` reaches the server percent-encoded, as from Lab."""
    from urllib.parse import urlencode

    from tornado.httpclient import AsyncHTTPClient

    def call(*parts, method="GET", body=None, params=None, headers=None):
        url = f"http://localhost:{jp_http_port}{jp_base_url}api/fermi/" + "/".join(parts)
        if params:
            url += "?" + urlencode(params)
        kwargs = {"method": method, "headers": headers if headers is not None else jp_auth_header}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = json.dumps(body if body is not None else {})
        r = jp_asyncio_loop.run_until_complete(AsyncHTTPClient().fetch(url, **kwargs))
        return json.loads(r.body) if r.body else None

    return call


def error_of(fetch, *parts, **kw) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as e:
        fetch(*parts, **kw)
    return e.value.code, json.loads(e.value.response.body)


def test_mounts_with_status(fetch, server):
    items = fetch("mounts")["items"]
    assert [(m["kind"], m["read_only"]) for m in items] == [("dataset", True), ("volume", False)]
    assert items[0]["status"] == "ready" and items[0]["ref"] == f"{server.dataset['id']}@1"


def test_volumes_and_tree_local_and_remote(fetch, server, users):
    vols = fetch("volumes")["items"]
    mine = next(v for v in vols if v["id"] == server.volume["id"])
    assert mine["mount_path"] == str(server.workspace)
    local = fetch("volumes", server.volume["id"], "tree", params={"path": "raw"})
    assert local["source"] == "local" and "part-000" in [i["name"] for i in local["items"]]
    found = fetch(
        "volumes", server.volume["id"], "tree", params={"path": "raw", "q": "sample-000003"}
    )
    assert [i["path"] for i in found["items"]] == ["raw/part-003/sample-000003.bin"]
    # a volume of alice's that this server does not mount: browsed through the registry
    with users["alice"] as c:
        other = c.post("/volumes", json={"name": "ext-unmounted", "capacity": "1Gi"}).json()
    remote = fetch("volumes", other["id"], "tree")
    assert remote["source"] == "registry" and remote["items"] == []
    code, err = error_of(fetch, "volumes", server.volume["id"], "tree", params={"path": "../.."})
    assert code == 400 and err["reason"] == "path-refused"
    if not (server.workspace / "ext-link").is_symlink():
        (server.workspace / "ext-link").symlink_to("/etc")
    code, err = error_of(fetch, "volumes", server.volume["id"], "tree", params={"path": "ext-link"})
    assert code == 400 and err["reason"] == "path-refused"  # never followed


def test_register_a_local_path_and_watch_it_become_ready(fetch, server):
    out = server.workspace / "ext-out"
    make_tree(out, 10, 400, seed=51)
    v = fetch(
        "datasets",
        method="POST",
        body={"name": "ext-registered", "data_type": "image", "version": {"path": str(out)}},
    )["version"]
    assert v["status"] in ("pending", "processing", "ready")
    assert v["source"] == {"volume_id": server.volume["id"], "path": "ext-out"}
    assert v["parents"] == [f"{server.dataset['id']}@1"]  # lineage: what is mounted here
    deadline = time.monotonic() + 60
    while v["status"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
        v = fetch("datasets", v["dataset_id"], "versions", str(v["number"]))
    assert v["status"] == "ready" and v["digest"] == independent_digest(out)[0]
    listed = fetch("datasets", params={"q": "ext-registered"})["items"]
    assert [d["latest"] for d in listed] == [1]
    versions = fetch("datasets", "ext-registered", "versions")["items"]
    assert [x["number"] for x in versions] == [1]


def test_register_refusals(fetch, server):
    code, err = error_of(
        fetch,
        "datasets",
        method="POST",
        body={"name": "x", "version": {"path": str(server.dataset_mount)}},
    )
    assert code == 400 and err["reason"] == "in-dataset" and "read-only" in err["message"]
    code, err = error_of(
        fetch, "datasets", method="POST", body={"name": "x", "version": {"path": "/etc"}}
    )
    assert code == 400 and err["reason"] == "not-in-volume"
    code, err = error_of(fetch, "datasets", "cli-source", "versions", method="POST", body={})
    assert code == 400 and err["reason"] == "invalid-parameter"
    assert err["message"] == "path is required"
    code, err = error_of(
        fetch, "datasets", "cli-source", "versions", method="POST", body={"path": "x", "mode": {}}
    )
    assert (code, err["reason"]) == (400, "invalid-parameter")
    assert err["message"] == "mode must be one of snapshot, reference"
    code, err = error_of(fetch, "datasets", "no-such", "versions")
    assert code == 404


def test_requests_without_the_servers_token_are_refused(fetch):
    code, _ = error_of(fetch, "mounts", headers={"Authorization": "token wrong"})
    assert code in (401, 403)


def test_event_stream_is_relayed_as_the_servers_owner(
    jp_fetch, jp_asyncio_loop, jp_http_port, jp_base_url, jp_auth_header, server
):
    import asyncio

    from tornado.httpclient import AsyncHTTPClient

    out = server.workspace / "ext-events"
    make_tree(out, 3, 100, seed=52)
    chunks: list[bytes] = []

    async def scenario() -> None:
        url = f"http://localhost:{jp_http_port}{jp_base_url}api/fermi/events"
        stream = AsyncHTTPClient().fetch(
            url,
            headers=jp_auth_header,
            request_timeout=6,
            streaming_callback=chunks.append,
            raise_error=False,
        )
        await asyncio.sleep(1)
        body = json.dumps({"name": "ext-events", "version": {"path": str(out)}})
        await jp_fetch("api", "fermi", "datasets", method="POST", body=body)
        try:
            await stream  # ends at the request timeout; everything relayed is in chunks
        except HTTPClientError as e:
            assert e.code == 599  # the timeout that closes the endless stream

    jp_asyncio_loop.run_until_complete(scenario())
    text = b"".join(chunks).decode()
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    mine = [e for e in events if e.get("dataset_name") == "ext-events"]
    assert mine and mine[-1]["status"] == "ready"


def _endpoints() -> list[tuple[str, tuple[str, ...]]]:
    """Every documented verb and path (the OpenAPI test below ties them to the routes)."""
    import re
    from pathlib import Path

    import fermi_jupyter.server

    doc = json.loads((Path(fermi_jupyter.server.__file__).with_name("openapi.json")).read_text())
    samples = {
        "ref": "cli-source",
        "selector": "1",
        "job_id": "1",
        "transfer_id": "tr-x",
        "volume_id": "vol-x",
        "name": "prod",
    }
    return [
        (verb.upper(), tuple(re.sub(r"\{(\w+)\}", lambda m: samples[m[1]], path).split("/")[1:]))
        for path, ops in doc["paths"].items()
        for verb in ops
    ]


ENDPOINTS = _endpoints()


@pytest.mark.parametrize(("method", "parts"), ENDPOINTS, ids=["/".join(p) for _, p in ENDPOINTS])
def test_every_endpoint_refuses_requests_without_the_servers_token(fetch, method, parts):
    assert len(ENDPOINTS) >= 13
    body = {"path": "/tmp", "name": "x"} if method in ("POST", "PUT", "PATCH") else None
    code, _ = error_of(
        fetch, *parts, method=method, body=body, headers={"Authorization": "token wrong"}
    )
    assert code in (401, 403)


def test_volumes_are_paginated_and_searchable(fetch, server, users):
    with users["alice"] as c:
        for name in ("ext-page-a", "ext-page-b"):
            c.post("/volumes", json={"name": name, "capacity": "1Gi"})
    first = fetch("volumes", params={"limit": "1"})
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = fetch("volumes", params={"limit": "1", "cursor": first["next_cursor"]})
    assert second["items"][0]["id"] != first["items"][0]["id"]
    found = fetch("volumes", params={"q": "ext-page"})["items"]
    assert sorted(v["name"] for v in found) == ["ext-page-a", "ext-page-b"]
    assert all(v["mount_path"] is None for v in found)  # not mounted in this server
    mine = fetch("volumes", params={"q": "cli-work"})["items"]
    assert [v["mount_path"] for v in mine] == [str(server.workspace)]


def test_new_version_of_an_existing_dataset_by_reference(fetch, server):
    out = server.workspace / "ext-twice"
    make_tree(out, 4, 200, seed=53)
    v1 = fetch(
        "datasets", method="POST", body={"name": "ext-twice", "version": {"path": str(out)}}
    )["version"]
    (out / "extra.txt").write_text("version two")
    v2 = fetch(
        "datasets",
        "ext-twice",
        "versions",
        method="POST",
        body={"path": str(out) + "/", "mode": "reference"},
    )
    assert (v2["dataset_id"], v2["number"], v2["mode"]) == (v1["dataset_id"], 2, "reference")
    assert v2["parents"] == [f"{server.dataset['id']}@1"]
    code, err = error_of(
        fetch, "datasets", method="POST", body={"name": "ext-twice", "version": {"path": str(out)}}
    )
    assert code == 409 and err["message"]  # the name is taken: add a version instead
    code, err = error_of(
        fetch,
        "datasets",
        method="POST",
        body={"name": "ext-gone", "version": {"path": str(out / "missing")}},
    )
    assert 400 <= code < 500 and err["message"]
    assert fetch("datasets", params={"q": "ext-gone"})["items"] == []  # nothing half-made


def test_a_broken_mount_plan_is_a_readable_error(fetch, monkeypatch):
    monkeypatch.setenv("FERMI_MOUNTS", "[{not json")
    code, err = error_of(fetch, "mounts")
    assert code == 503 and err["reason"] == "bad-plan"
    assert "restart the server from the hub" in err["message"]


def test_the_server_acts_only_as_its_owner(fetch, jp_serverapp, server, users, monkeypatch):
    """A server started for carol, with a mount plan forged to claim alice's volume: the
    registry still sees carol, so alice's private data stays out of reach."""
    with users["alice"] as c:
        c.post("/datasets", json={"name": "ext-private"})
    assert [d["name"] for d in fetch("datasets", params={"q": "ext-private"})["items"]] == [
        "ext-private"
    ]  # as alice (this server's owner) it is there
    assert fetch("datasets", "alice%2Fext-private", "versions")["items"] == []
    monkeypatch.setattr(
        jp_serverapp.web_app.settings["fermi"], "registry_token", users.tokens["carol"]
    )
    assert fetch("datasets", params={"q": "ext-private"})["items"] == []
    code, _ = error_of(fetch, "datasets", "alice%2Fext-private", "versions")
    assert code == 404
    out = server.workspace / "ext-stolen"
    make_tree(out, 2, 100, seed=54)
    code, err = error_of(
        fetch,
        "datasets",
        method="POST",
        body={"name": "carol-steal", "version": {"path": str(out)}},
    )
    assert code in (403, 404) and err["message"]
    assert fetch("datasets", params={"q": "carol-steal"})["items"] == []  # rolled back
    code, _ = error_of(
        fetch, "datasets", "alice%2Fcli-source", "versions", method="POST", body={"path": str(out)}
    )
    assert code in (403, 404)


def test_without_a_registry_the_answer_says_what_to_do(fetch, jp_serverapp, monkeypatch):
    monkeypatch.setattr(jp_serverapp.web_app.settings["fermi"], "registry_url", "")
    monkeypatch.delenv("FERMI_REGISTRY_URL")
    for parts in (("datasets",), ("events",), ("volumes",)):
        code, err = error_of(fetch, *parts)
        assert code == 503 and err["reason"] == "no-registry-url", parts
        assert "FERMI_REGISTRY_URL" in err["message"] or "registry_url" in err["message"]
    mounts = fetch("mounts")  # mounts still answer, saying why statuses are missing
    assert mounts["items"][1]["kind"] == "volume"
    assert mounts["registry_error"]["reason"] == "no-registry-url"


def wait_job(fetch, job: dict) -> dict:
    deadline = time.monotonic() + 60
    while job["state"] not in ("done", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = fetch("jobs", str(job["id"]))
    return job


def test_verify_restore_and_delete_for_the_sidebar(fetch, server):
    job = fetch("datasets", "cli-source", "versions", "1", "verify", method="POST", body={})
    done = wait_job(fetch, job)
    assert (done["state"], done["result"]["ok"]) == ("done", True)
    target = server.workspace / "ext-restored"
    job = fetch(
        "datasets", "cli-source", "versions", "latest", "restore",
        method="POST", body={"path": str(target)},
    )  # fmt: skip
    assert wait_job(fetch, job)["state"] == "done"
    assert (
        independent_digest(target)[0] == fetch("datasets", "cli-source", "versions", "1")["digest"]
    )
    code, err = error_of(
        fetch, "datasets", "cli-source", "versions", "1", "restore",
        method="POST", body={"path": str(server.dataset_mount / "x")},
    )  # fmt: skip
    assert code == 400 and err["reason"] == "in-dataset"
    code, err = error_of(
        fetch, "datasets", "cli-source", "versions", "1", "restore",
        method="POST", body={"path": str(server.workspace)},
    )  # fmt: skip
    assert code == 400 and "new folder" in err["message"]
    out = server.workspace / "ext-deleted"
    make_tree(out, 2, 100, seed=55)
    v = fetch(
        "datasets", method="POST", body={"name": "ext-deleted", "version": {"path": str(out)}}
    )
    v = v["version"]
    deadline = time.monotonic() + 60
    while v["status"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
        v = fetch("datasets", v["dataset_id"], "versions", "1")
    assert fetch("datasets", v["dataset_id"], "versions", "1", method="DELETE") is None
    code, _ = error_of(fetch, "datasets", v["dataset_id"], "versions", "1")
    assert code == 404


def test_the_openapi_document_matches_the_routes(fetch):
    import re

    from jupyter_server.base.handlers import APIHandler

    from fermi_jupyter.server.handlers import ROUTES

    doc = fetch("openapi.json")
    samples = {
        "ref": "alice%2Fimagenet", "selector": "3", "job_id": "7", "volume_id": "vol-1",
        "name": "prod", "transfer_id": "tr-1",
    }  # fmt: skip
    covered = set()
    for path, ops in doc["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], path.lstrip("/"))
        matches = [(p, h) for p, h in ROUTES if re.fullmatch(p, url)]
        assert len(matches) == 1, path
        pattern, handler = matches[0]
        covered.add(pattern)
        for verb in ops:  # each documented verb is implemented, and nothing else is
            assert getattr(handler, verb) is not getattr(APIHandler, verb), (path, verb)
        implemented = {
            v for v in ("get", "post", "put", "patch", "delete")
            if getattr(handler, v) is not getattr(APIHandler, v)
        }  # fmt: skip
        assert set(ops) <= implemented
    assert covered == {p for p, _ in ROUTES}


def test_cancel_for_the_sidebar(fetch, jp_serverapp, server, users, monkeypatch):
    """The owner cancels a running registration; a team member who reads the dataset may not;
    a finished version is left alone."""
    slow = make_slow_tree(server.workspace / "ext-slow", files=400)
    body = {
        "name": "ext-cancel",
        "visibility": "team",
        "team": "vision",
        "version": {"path": str(slow), "mode": "reference"},
    }
    v = fetch("datasets", method="POST", body=body)["version"]
    ext = jp_serverapp.web_app.settings["fermi"]
    with monkeypatch.context() as m:  # the same server, acting as bob (alice's team)
        m.setattr(ext, "registry_token", users.tokens["bob"])
        code, err = error_of(
            fetch, "datasets", v["dataset_id"], "versions", "1", "cancel", method="POST"
        )
    assert (code, err["reason"]) == (403, "not-cancellable") and "alice" in err["message"]
    job = fetch("datasets", "ext-cancel", "versions", "1", "cancel", method="POST", body={})
    assert job["kind"] == "register" and job["version"] == v["ref"]
    assert job["state"] in ("cancelling", "cancelled")
    assert set(job["progress"]) >= {"rate_bytes_per_s", "eta_seconds", "stalled_since"}
    deadline = time.monotonic() + 60
    while fetch("datasets", "ext-cancel", "versions", "1")["status"] != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    code, err = error_of(fetch, "datasets", "ext-cancel", "versions", "1", "cancel", method="POST")
    assert (code, err["reason"]) == (409, "not-running")
    code, err = error_of(fetch, "datasets", "cli-source", "versions", "1", "cancel", method="POST")
    assert (code, err["reason"]) == (409, "not-running")
    assert fetch("datasets", "cli-source", "versions", "1")["status"] == "ready"


def test_any_other_url_or_method_is_a_json_error(fetch):
    code, err = error_of(fetch, "no-such-thing")
    assert (code, err["reason"]) == (404, "not-found") and "no-such-thing" in err["message"]
    code, err = error_of(fetch, "datasets", "cli-source", "versions", "x%20y")
    assert (code, err["reason"]) == (400, "invalid-ref")
    code, err = error_of(fetch, "mounts", method="DELETE")
    assert (code, err["reason"]) == (405, "method-not-allowed")
    assert err["message"] == "this URL does not answer DELETE (see api/fermi/openapi.json)"
    code, err = error_of(fetch, "datasets", method="POST", body={"name": "x", "colour": "red"})
    assert (code, err["reason"]) == (400, "invalid-parameter") and "colour" in err["message"]
    code, err = error_of(fetch, "datasets", params={"scope": "everything"})
    assert (code, err["reason"]) == (400, "invalid-parameter")
    code, err = error_of(fetch, "jobs", params={"state": "sleeping"})
    assert (code, err["reason"]) == (400, "invalid-parameter")


def test_audit_and_mount_records_for_the_sidebar(fetch, users, server):
    with users["alice"] as c:
        c.put(
            "/mounts/alice/ext-records", json={"mounts": [{"version": f"{server.dataset['id']}@1"}]}
        )
    try:
        records = fetch("mount-records", params={"server": "alice/ext-records"})["items"]
        assert [(r["server"], r["version"]) for r in records] == [
            ("alice/ext-records", f"{server.dataset['id']}@1")
        ]
    finally:
        with users["alice"] as c:
            c.delete("/mounts/alice/ext-records")
    events = fetch("audit", params={"action": "mount.record", "limit": "5"})["items"]
    assert events and {e["actor"] for e in events} == {"alice"}
