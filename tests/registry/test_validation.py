"""Bad input gets a 4xx JSON {message, reason} — never a 500 — and nothing half-written.
The cases that broke the registry before (issue 11) plus the edge of every parameter kind."""

from __future__ import annotations

import pytest

from ..support.trees import make_tree, wait_version


@pytest.fixture(scope="module")
def world(reg):
    with reg["alice"] as c:
        vol = c.post("/volumes", json={"name": "val-vol", "capacity": "1Gi"}).json()
        make_tree(reg.storage_root / "volumes" / vol["id"] / "d", 2, 10)
        ds = c.post("/datasets", json={"name": "val-ds"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "d"})
        assert wait_version(c, ds["id"], 1)["status"] == "ready"
    return {"vol": vol, "ds": ds}


def deep(n: int) -> str:
    return "[" * n + "]" * n


BODIES = [
    # (method, path, raw JSON body, expected reason)
    ("post", "/datasets", '{"name": "x", "team": ["x"]}', "invalid-body"),
    ("post", "/datasets", '{"name": "x", "tags": ' + deep(100_000) + "}", "invalid-json"),
    ("post", "/datasets", '{"name": "x", "tags": ' + deep(500) + "}", "invalid-body"),
    ("post", "/datasets", deep(200), "invalid-body"),
    ("post", "/datasets", '{"name": "x", "description": "a\\u0000b"}', "invalid-body"),
    ("post", "/datasets", '{"name": "' + "n" * 129 + '"}', "invalid-body"),
    ("post", "/datasets", '{"name": "x", "zone": "' + "z" * 65 + '"}', "invalid-body"),
    ("post", "/datasets", '{"name": "x", "tags": ["' + "t" * 65 + '"]}', "invalid-body"),
    ("post", "/datasets", '{"name": "x", "visibility": "world"}', "invalid-body"),
    ("post", "/datasets", '{"name": "x", "owner": "alice"}', "invalid-body"),
    ("post", "/datasets", "[1, 2]", "invalid-body"),
    ("post", "/datasets", "{not json", "invalid-json"),
    ("post", "/datasets", '"\\ud800"', "invalid-json"),
    ("post", "/volumes", '{"name": "v", "zone": {"a": 1}}', "invalid-body"),
    ("post", "/volumes", '{"name": "v", "pvc_name": ["x"], "backend": "pvc"}', "invalid-body"),
    ("post", "/volumes", '{"name": "v", "capacity": 1e400}', "invalid-json"),
    ("post", "/volumes", '{"name": "v", "capacity": 99999999999999999999999}', "invalid-body"),
    ("post", "/volumes", '{"name": "v", "capacity": "' + "9" * 400 + '"}', "invalid-body"),
    ("post", "/volumes", '{"name": "v", "capacity": "-5Gi"}', "bad-request"),
    (
        "post",
        "/datasets/{ds}/versions",
        '{"volume_id": "{vol}", "path": "d", "parents": ["val-ds@99999999999999999999"]}',
        "no-version",
    ),
    (
        "post",
        "/datasets/{ds}/versions",
        '{"volume_id": "{vol}", "path": "d", "parents": ["val-ds@9223372036854775808"]}',
        "no-version",
    ),
    (
        "post",
        "/datasets/{ds}/versions",
        '{"volume_id": "{vol}", "path": "d", "parents": [["x"]]}',
        "invalid-body",
    ),
    (
        "post",
        "/datasets/{ds}/versions",
        '{"volume_id": "{vol}", "path": "d", "mode": "copy"}',
        "invalid-body",
    ),
    ("post", "/datasets/{ds}/versions", '{"path": "x"}', "invalid-body"),
    ("put", "/datasets/{ds}/aliases/prod", '{"version": 100000000000000000000}', "invalid-body"),
    ("put", "/datasets/{ds}/aliases/prod", '{"version": 9223372036854775807}', "invalid-body"),
    ("put", "/datasets/{ds}/aliases/prod", '{"version": true}', "invalid-body"),
    ("put", "/datasets/{ds}/aliases/prod", '{"version": 2147483647}', "not-ready"),
    ("patch", "/datasets/{ds}", '{"id": "ds-other"}', "invalid-body"),
    (
        "post",
        "/datasets/{ds}/versions/1/restore",
        '{"volume_id": "{vol}", "path": 5}',
        "invalid-body",
    ),
    (
        "put",
        "/mounts/alice",
        '{"mounts": [' + ",".join(['{"version": "val-ds@1"}'] * 17) + "]}",
        "invalid-body",
    ),
    ("put", "/mounts/alice", '{"mounts": [{"version": "val-ds@1", "extra": 1}]}', "invalid-body"),
]


@pytest.mark.parametrize(("method", "path", "raw", "reason"), BODIES)
def test_malformed_bodies_get_a_clear_400(reg, world, method, path, raw, reason):
    ds, vol = world["ds"]["id"], world["vol"]["id"]
    path = path.replace("{ds}", ds).replace("{vol}", vol)
    raw = raw.replace("{vol}", vol)
    with reg["alice"] as c:
        before = c.get(f"/datasets/{ds}/versions").json()["items"]
        r = c.request(method.upper(), path, content=raw.encode())
        assert r.status_code in (400, 404), (r.status_code, r.text)
        body = r.json()
        assert set(body) == {"message", "reason"}, body
        assert body["reason"] == reason, body
        assert 0 < len(body["message"]) <= 300
        assert c.get(f"/datasets/{ds}/versions").json()["items"] == before  # nothing added


URLS = [
    ("/datasets?limit=0", "invalid-query"),
    ("/datasets?limit=abc", "invalid-query"),
    ("/datasets?limit=1001", "invalid-query"),
    ("/datasets?cursor=garbage!", "bad-cursor"),
    ("/datasets?cursor=W3siYSI6MX0sNV0", "bad-cursor"),  # [{"a":1},5]
    ("/jobs?cursor=WzEwMDAwMDAwMDAwMDAwMDAwMDAwMF0", "bad-cursor"),  # [10**22]
    ("/datasets?scope=everything", "invalid-query"),
    ("/datasets?q=a%00b", "invalid-query"),
    ("/datasets/{ds}/versions/99999999999999999999", "no-version"),
    ("/datasets/{ds}/versions/%C2%B2", "not-found"),
    ("/jobs/99999999999999999999", "job-not-found"),
    ("/volumes/vol-%00", "invalid-query"),
    ("/no/such/endpoint", "not-found"),
    ("/events?last_event_id=x", "invalid-query"),
]


@pytest.mark.parametrize(("url", "reason"), URLS)
def test_bad_urls_get_a_clear_4xx(reg, world, url, reason):
    with reg["alice"] as c:
        r = c.get(url.replace("{ds}", world["ds"]["id"]))
        assert 400 <= r.status_code < 500, r.text
        assert r.json() == {"message": r.json()["message"], "reason": reason}


def test_wrong_method_is_a_json_405(reg):
    with reg["alice"] as c:
        r = c.request("PATCH", "/volumes")
        assert r.status_code == 405 and r.json()["reason"] == "method-not-allowed"


def test_unchanged_pages_cost_a_304(reg, world):
    with reg["alice"] as c:
        for path in (f"/datasets/{world['ds']['id']}", f"/datasets/{world['ds']['id']}/versions/1"):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["ETag"]
            assert "no-cache" in r.headers["Cache-Control"]
            again = c.get(path, headers={"If-None-Match": r.headers["ETag"]})
            assert again.status_code == 304 and again.content == b""
        etag = c.get(f"/datasets/{world['ds']['id']}").headers["ETag"]
        c.patch(f"/datasets/{world['ds']['id']}", json={"description": "changed"})
        r = c.get(f"/datasets/{world['ds']['id']}", headers={"If-None-Match": etag})
        assert r.status_code == 200 and r.json()["description"] == "changed"


def test_the_service_root_says_where_the_api_is(reg):
    """JupyterHub checks a service's URL when it starts: an answer, not a 404 in the log."""
    with reg["alice"] as c:
        r = c.get(reg.url.rsplit("/api/v1", 1)[0] + "/")  # the service root, above api/v1
        assert r.status_code == 200, r.text
        assert r.json()["api"].endswith("api/v1/") and r.json()["name"] == "fermi-registry"
