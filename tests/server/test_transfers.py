"""Transfers and credentials through the server extension (the sidebar's routes), in a real
Jupyter server against the real registry behind a real hub, importing from a real Git server
(``git http-backend``) on loopback."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from ..support.git_server import GitHTTPServer, make_repo
from .test_extension import error_of
from .test_extension import fetch as fetch  # the fixture

pytestmark = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)
TOKEN = "glpat-extSecret4242"


@pytest.fixture(scope="module")
def git_remote(tmp_path_factory):
    root = tmp_path_factory.mktemp("ext-git")
    server = GitHTTPServer(root, TOKEN).start()
    make_repo(root, "notes", {"README.md": "# notes\n", "data/a.csv": "x\n1\n"})
    make_repo(root, "secret", {"s.txt": "hidden\n"}, private=True)
    yield server
    server.stop()


def wait(fetch, tid: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = fetch("transfers", tid)
        if t["state"] in ("complete", "failed", "cancelled"):
            return t
        time.sleep(0.2)
    raise AssertionError(f"transfer {tid} is still {t['state']}")


def git_import(server, url: str, path: str, **source) -> dict:
    return {
        "source": {"type": "git", "url": url, **source},
        "sink": {"type": "volume", "volume_id": server.volume["id"], "path": path},
    }


def test_import_from_git_into_a_volume_folder(fetch, server, git_remote):
    t = fetch("transfers", method="POST", body=git_import(server, git_remote.url("notes"), "in"))
    assert t["state"] in ("pending", "running") and t["tool"] == "git"
    done = wait(fetch, t["id"])
    assert done["state"] == "complete", done
    assert done["attempts"] == 1 and done["progress"]["files_done"]
    assert (server.workspace / "in" / "notes" / "data" / "a.csv").read_text() == "x\n1\n"
    listed = fetch("transfers", params={"volume_id": server.volume["id"]})["items"]
    assert t["id"] in [i["id"] for i in listed]
    assert fetch("transfers", params={"state": "complete"})["items"]
    log = fetch("transfers", t["id"], "log")
    assert log["text"] and log["next_offset"] >= len(log["text"].encode()) > 0
    rest = fetch("transfers", t["id"], "log", params={"offset": log["next_offset"]})
    assert rest["text"] == ""


def test_credentials_are_named_never_shown_and_used_by_a_transfer(fetch, server, git_remote):
    with contextlib.suppress(HTTPClientError):  # not there from an earlier run
        fetch("credentials", "ext-git", method="DELETE")
    made = fetch(
        "credentials", method="POST", body={"name": "ext-git", "type": "git", "token": TOKEN}
    )
    assert made == {**made, "name": "ext-git", "type": "git", "fields": ["token"]}
    listed = fetch("credentials")
    assert "ext-git" in [c["name"] for c in listed["items"]]
    assert TOKEN not in json.dumps(made) + json.dumps(listed)
    body = git_import(server, git_remote.url("secret", private=True), "priv", credential="ext-git")
    t = wait(fetch, fetch("transfers", method="POST", body=body)["id"])
    assert t["state"] == "complete", t
    assert (server.workspace / "priv" / "secret" / "s.txt").exists()
    log = fetch("transfers", t["id"], "log")["text"]
    assert TOKEN not in json.dumps(t) + log
    # taken name; then delete, and a transfer naming it is refused with the registry's reason
    code, err = error_of(
        fetch, "credentials", method="POST", body={"name": "ext-git", "type": "git", "token": "x"}
    )
    assert (code, err["reason"]) == (409, "exists")
    assert fetch("credentials", "ext-git", method="DELETE") is None
    assert "ext-git" not in [c["name"] for c in fetch("credentials")["items"]]
    code, err = error_of(fetch, "credentials", "ext-git", method="DELETE")
    assert (code, err["reason"]) == (404, "credential-not-found")
    code, err = error_of(fetch, "transfers", method="POST", body=body)
    assert code in (400, 404) and err["reason"] == "credential-not-found", err


def test_wrong_token_fails_as_unauthorized_without_the_secret(fetch, server, git_remote):
    wrong = "glpat-wrongWrong999"
    fetch("credentials", method="POST", body={"name": "ext-bad", "type": "git", "token": wrong})
    try:
        body = git_import(
            server, git_remote.url("secret", private=True), "bad", credential="ext-bad"
        )
        t = wait(fetch, fetch("transfers", method="POST", body=body)["id"])
        assert (t["state"], t["reason"]) == ("failed", "unauthorized"), t
        assert wrong not in json.dumps(t) + fetch("transfers", t["id"], "log")["text"]
    finally:
        fetch("credentials", "ext-bad", method="DELETE")


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({"sink": {"type": "volume", "volume_id": "v"}}, "invalid-parameter", "source"),
        (
            {"source": {"type": "ftp", "url": "x"}, "sink": {"type": "volume", "volume_id": "v"}},
            "invalid-parameter",
            "source.type must be one of",
        ),
        (
            {"source": {"type": "git"}, "sink": {"type": "volume", "volume_id": "v"}},
            "invalid-parameter",
            "source.url is required",
        ),
        (
            {
                "source": {"type": "s3", "uri": "s3://b", "sync": True},
                "sink": {"type": "volume", "volume_id": "v"},
            },
            "invalid-parameter",
            "unknown field sync",
        ),
        (
            {
                "source": {"type": "git", "url": "https://x/y.git"},
                "sink": {"type": "volume", "volume_id": "v"},
                "policy": {"backoff_limit": 99},
            },
            "invalid-parameter",
            "policy.backoff_limit must be between 0 and 10",
        ),
    ],
)
def test_malformed_transfers_are_refused_here_with_a_sentence(fetch, body, reason, words):
    code, err = error_of(fetch, "transfers", method="POST", body=body)
    assert (code, err["reason"]) == (400, reason) and words in err["message"], err


def test_what_the_registry_refuses_comes_back_with_its_reason(fetch, server):
    # a local path as a Git URL: only the registry judges URLs
    code, err = error_of(
        fetch, "transfers", method="POST", body=git_import(server, "/etc/passwd", "x")
    )
    assert (code, err["reason"]) == (400, "invalid-transfer") and "URL" in err["message"], err
    code, err = error_of(fetch, "transfers", "tr-doesnotexist")
    assert (code, err["reason"]) == (404, "transfer-not-found")
    code, err = error_of(fetch, "transfers", "../jobs", "log")
    assert code == 404
    code, err = error_of(fetch, "transfers", params={"state": "done"})
    assert (code, err["reason"]) == (400, "invalid-parameter")
    code, err = error_of(
        fetch, "credentials", method="POST", body={"name": "x", "type": "git", "value": "v"}
    )
    assert (code, err["reason"]) == (400, "invalid-parameter") and "value" in err["message"]


def test_cancel_and_a_finished_transfer_cannot_be_cancelled(fetch, server, git_remote):
    git_remote.delay = 3.0  # a slow remote, so the transfer is still running when cancelled
    try:
        t = fetch("transfers", method="POST", body=git_import(server, git_remote.url("notes"), "c"))
        assert fetch("transfers", t["id"], method="DELETE")["id"] == t["id"]
        assert wait(fetch, t["id"])["state"] == "cancelled"
    finally:
        git_remote.delay = 0.0
    assert not (server.workspace / "c" / "notes").exists()
    code, err = error_of(fetch, "transfers", t["id"], method="DELETE")
    assert code == 409, err


def test_another_users_transfers_and_credentials_stay_out_of_sight(
    fetch, server, users, git_remote
):
    # dave: no other test counts his transfers or credentials
    with users["dave"] as c:
        vol = c.post("/volumes", json={"name": "ext-dave-vol", "capacity": "1Gi"}).json()
        if "id" not in vol:
            vol = next(v for v in c.get("/volumes").json()["items"] if v["name"] == "ext-dave-vol")
        c.delete("/credentials/bob-only")
        c.post("/credentials", json={"name": "bob-only", "type": "git", "token": "bobs"})
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_remote.url("notes")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "b"},
        })  # fmt: skip
        assert r.status_code == 202, r.text
        bobs = r.json()["id"]
    assert bobs not in [t["id"] for t in fetch("transfers")["items"]]
    assert "bob-only" not in [c["name"] for c in fetch("credentials")["items"]]
    for parts, method in (((bobs,), "GET"), ((bobs, "log"), "GET"), ((bobs,), "DELETE")):
        code, err = error_of(fetch, "transfers", *parts, method=method)
        assert (code, err["reason"]) == (404, "transfer-not-found"), (parts, err)
    code, _ = error_of(fetch, "credentials", "bob-only", method="DELETE")
    assert code == 404
    body = git_import(server, git_remote.url("notes"), "x", credential="bob-only")
    code, err = error_of(fetch, "transfers", method="POST", body=body)
    assert err["reason"] == "credential-not-found", err
    with users["dave"] as c:  # leave nothing behind for other modules on this hub
        assert c.delete("/credentials/bob-only").status_code == 204


def test_import_into_a_new_volume_as_a_new_version_with_a_policy(fetch, server, git_remote):
    """What the sidebar's form sends: a volume made with the import, a new version of a
    dataset of yours, retries, a deadline, extra arguments and environment."""
    first = fetch("transfers", method="POST", body={
        **git_import(server, git_remote.url("notes"), "ds-first"),
        "dataset": {"name": "ext-notes"},
    })  # fmt: skip
    done = wait(fetch, first["id"])
    assert done["state"] == "complete" and done["version"], done
    ds_id = done["version"].split("@")[0]
    t = fetch("transfers", method="POST", body={
        "source": {"type": "git", "url": git_remote.url("notes")},
        "sink": {"type": "volume", "path": "dev/git",
                 "create_volume": {"name": "ext-new-vol", "capacity": "2Gi", "type": "hdd"}},
        "dataset": {"id": ds_id, "message": "from the new volume"},
        "policy": {"backoff_limit": 1, "active_deadline_seconds": 600,
                   "extra_args": ["--depth=1", "--no-tags"], "env": {"LC_EXT_TEST": "1"}},
    })  # fmt: skip
    assert t["policy"] == {**t["policy"], "backoff_limit": 1, "active_deadline_seconds": 600}
    assert t["sink"]["volume_id"] and "create_volume" not in t["sink"]
    done = wait(fetch, t["id"])
    assert done["state"] == "complete" and done["version"] == f"{ds_id}@2", done
    vols = {v["name"]: v for v in fetch("volumes")["items"]}
    assert vols["ext-new-vol"]["id"] == t["sink"]["volume_id"]
    assert vols["ext-new-vol"]["type"] == "hdd"
    assert vols["ext-new-vol"]["capacity_bytes"] == 2 * 1024**3


@pytest.mark.parametrize(
    ("body", "status", "reason", "words"),
    [
        # the registry's allow-list, passed on with its message and reason
        ({"policy": {"extra_args": ["--upload-pack=/bin/sh"]}}, 400, "invalid-transfer",
         "not an allowed git download option"),
        ({"policy": {"env": {"TOKEN": "x"}}}, 400, "invalid-transfer",
         "name of a transfer option"),
        ({"policy": {"env": {"GIT_DIR": "/"}}}, 400, "invalid-transfer", "cannot be given"),
        # the extension's own check of a new volume, naming the field
        ({"sink": {"type": "volume", "create_volume": {"name": "v", "type": "nvme"}}}, 400,
         "invalid-parameter", "sink.create_volume.type must be one of"),
        ({"sink": {"type": "volume", "create_volume": {"name": "v", "capacity": "lots"}}}, 400,
         "invalid-transfer", "sink.create_volume.capacity must be a size"),
        ({"sink": {"type": "volume", "path": "x"}}, 400, "invalid-transfer", "volume_id"),
        ({"dataset": {"id": "ds-doesnotexist"}}, 404, "dataset-not-found", "ds-doesnotexist"),
    ],
)  # fmt: skip
def test_policy_and_new_volume_refusals_reach_the_form(fetch, server, body, status, reason, words):
    req = git_import(server, "https://example.org/r.git", "x")
    req.update(body)
    code, err = error_of(fetch, "transfers", method="POST", body=req)
    assert set(err) == {"message", "reason"}, err
    assert (code, err["reason"]) == (status, reason) and words in err["message"], err
