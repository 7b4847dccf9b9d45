"""The hub's own endpoints under /hub/fermi/, through a real hub: JSON everywhere (never an
HTML page), ``{"message", "reason"}`` errors, a 400 for a bad limit, cursor or query, and every
reason the handlers can raise listed in errors.py and in the reference docs."""

from __future__ import annotations

import httpx
import pytest

from fermi_jupyter.hub.errors import REASONS

from ..support.hub import PASSWORD
from ..support.trees import make_tree, wait_version

pytestmark = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


def login(hub, name: str) -> httpx.Client:
    s = httpx.Client(base_url=hub.url, timeout=30)
    s.get("/hub/login")
    r = s.post(
        "/hub/login",
        data={"username": name, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")},
    )
    assert r.status_code == 302
    return s


@pytest.fixture(scope="module")
def seeded(hub, users):
    with users["dave"] as c:
        vol = c.post("/volumes", json={"name": "ep-work", "capacity": "1Gi"}).json()
        make_tree(hub.storage_root / "volumes" / vol["id"] / "d", 2, 10)
        ids = []
        for i in range(3):
            ds = c.post("/datasets", json={"name": f"ep-set-{i}", "visibility": "org"}).json()
            c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "d"})
            ids.append(ds["id"])
        for ds_id in ids:
            wait_version(c, ds_id, 1)
    return ids


def error(r: httpx.Response, status: int, reason: str) -> str:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"message", "reason"} and body["reason"] == reason
    assert body["reason"] in REASONS and REASONS[body["reason"]][0] == status
    return body["message"]


BAD = [
    ("/hub/fermi/datasets?limit=0", 400, "bad-limit"),
    ("/hub/fermi/datasets?limit=101", 400, "bad-limit"),
    ("/hub/fermi/datasets?limit=ten", 400, "bad-limit"),
    ("/hub/fermi/datasets?limit=-1", 400, "bad-limit"),
    ("/hub/fermi/datasets?cursor=%00%01", 400, "bad-cursor"),
    ("/hub/fermi/datasets?cursor=" + "A" * 600, 400, "bad-cursor"),
    ("/hub/fermi/datasets?cursor=bm90LWEtY3Vyc29y", 400, "bad-cursor"),  # well-formed, not ours
    ("/hub/fermi/datasets?q=" + "x" * 201, 400, "bad-query"),
    ("/hub/fermi/datasets?q=a%0Ab", 400, "bad-query"),
    ("/hub/fermi/datasets/ds-doesnotexist0/versions", 404, "not-found"),
    ("/hub/fermi/datasets/not-an-id/versions", 404, "not-found"),
    ("/hub/fermi/nothing-here", 404, "not-found"),
    ("/hub/fermi/static/no-such-file.js", 404, "not-found"),
    ("/hub/fermi/locale/xx_XX.json", 404, "not-found"),
]


@pytest.mark.parametrize(("url", "status", "reason"), BAD, ids=[b[0][:60] for b in BAD])
def test_bad_requests_get_json_errors(hub, users, seeded, url, status, reason):
    s = login(hub, "alice")
    error(s.get(url), status, reason)


def test_no_login_is_a_json_401_not_a_login_page(hub, users):
    r = httpx.get(f"{hub.url}/hub/fermi/datasets", follow_redirects=False)
    error(r, 401, "not-authenticated")


def test_pages_of_datasets_follow_the_cursor(hub, users, seeded):
    s = login(hub, "alice")
    first = s.get("/hub/fermi/datasets", params={"q": "ep-set", "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = s.get(
        "/hub/fermi/datasets", params={"q": "ep-set", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    names = [d["name"] for d in first["items"] + rest["items"]]
    assert sorted(names) == ["ep-set-0", "ep-set-1", "ep-set-2"]
    assert all(d["ref"] == f"dave/{d['name']}" for d in first["items"])
    versions = s.get(f"/hub/fermi/datasets/{seeded[0]}/versions", params={"limit": 1}).json()
    assert [v["number"] for v in versions["items"]] == [1]


def test_one_registry_token_serves_many_calls_and_a_revoked_one_is_replaced(hub, users, seeded):
    def form_tokens():
        with hub.admin() as admin:
            listed = admin.get("/users/carol/tokens").json()["api_tokens"]
        return [t for t in listed if t["note"] == "fermi: spawn form"]

    s = login(hub, "carol")
    before = len(form_tokens())
    for q in ("ep", "ep-set", "ep-set-1", ""):
        assert s.get("/hub/fermi/datasets", params={"q": q}).status_code == 200
    made = form_tokens()
    assert len(made) - before <= 1  # not one per request
    with hub.admin() as admin:  # revoked behind the hub's back
        for t in made:
            assert admin.delete(f"/users/carol/tokens/{t['id']}").status_code == 204
    r = s.get("/hub/fermi/datasets", params={"q": "ep-set"})
    assert r.status_code == 200 and len(r.json()["items"]) == 3
