"""The server extension in a real Jupyter server (pytest-jupyter) against the real registry
behind a real hub: mounts, browsing, registering a local path, lineage, refusals."""

from __future__ import annotations

import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from ..support.trees import independent_digest, make_tree


@pytest.fixture
def fetch(jp_fetch, jp_asyncio_loop):
    """Synchronous calls into the async test server (keeps pytest-asyncio out of it)."""

    def call(*parts, method="GET", body=None, params=None, headers=None):
        kwargs = {"method": method, "params": params or {}}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        if headers is not None:
            kwargs["headers"] = headers
        r = jp_asyncio_loop.run_until_complete(jp_fetch("api", "fermi", *parts, **kwargs))
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
    local = fetch("tree", params={"volume": server.volume["id"], "path": "raw"})
    assert local["local"] is True and "part-000" in [i["name"] for i in local["items"]]
    found = fetch(
        "tree", params={"volume": server.volume["id"], "path": "raw", "q": "sample-000003"}
    )
    assert [i["path"] for i in found["items"]] == ["raw/part-003/sample-000003.bin"]
    # a volume of alice's that this server does not mount: browsed through the registry
    with users["alice"] as c:
        other = c.post("/volumes", json={"name": "ext-unmounted", "capacity": "1Gi"}).json()
    remote = fetch("tree", params={"volume": other["id"]})
    assert "local" not in remote and remote["items"] == []
    code, err = error_of(fetch, "tree", params={"volume": server.volume["id"], "path": "../.."})
    assert (code == 400 and err["reason"] == "path-refused") or err.get("message")


def test_register_a_local_path_and_watch_it_become_ready(fetch, server):
    out = server.workspace / "ext-out"
    make_tree(out, 10, 400, seed=51)
    v = fetch(
        "register",
        method="POST",
        body={"path": str(out), "name": "ext-registered", "data_type": "image"},
    )
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
        fetch, "register", method="POST", body={"path": str(server.dataset_mount), "name": "x"}
    )
    assert code == 400 and err["reason"] == "in-dataset" and "read-only" in err["message"]
    code, err = error_of(fetch, "register", method="POST", body={"path": "/etc", "name": "x"})
    assert code == 400 and err["reason"] == "not-in-volume"
    code, err = error_of(fetch, "register", method="POST", body={"path": "raw"})
    assert code == 400
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
        body = json.dumps({"path": str(out), "name": "ext-events"})
        await jp_fetch("api", "fermi", "register", method="POST", body=body)
        try:
            await stream  # ends at the request timeout; everything relayed is in chunks
        except HTTPClientError as e:
            assert e.code == 599  # the timeout that closes the endless stream

    jp_asyncio_loop.run_until_complete(scenario())
    text = b"".join(chunks).decode()
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    mine = [e for e in events if e.get("dataset_name") == "ext-events"]
    assert mine and mine[-1]["status"] == "ready"
