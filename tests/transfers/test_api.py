"""Transfers through the registry API, on a real hub with the registry as its service, against
real S3 (moto), Git (http-backend) and Hub servers on loopback.

Most tests run on SQLite only (the transfer logic is the same on both); the import flow also
runs on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

from fermi_jupyter.registry.app import JOB_PROCESS_NAME

from ..support.git_server import make_repo
from ..support.ports import free_port
from .conftest import GIT_TOKEN, wait_transfer

sqlite_only = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


def volume(c, name: str) -> dict:
    r = c.post("/volumes", json={"name": name, "capacity": "10Gi"})
    if r.status_code == 409:
        return next(v for v in c.get("/volumes").json()["items"] if v["name"] == name)
    assert r.status_code == 201, r.text
    return r.json()


def credential(c, name: str, **fields) -> None:
    c.delete(f"/credentials/{name}")
    r = c.post("/credentials", json={"name": name, **fields})
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def s3_bucket(s3_server):
    s3 = s3_server.client()
    s3.create_bucket(Bucket="api-data")
    for i in range(20):
        s3.put_object(Bucket="api-data", Key=f"raw/{i:02d}.txt", Body=f"row {i}\n".encode())
    return s3


def s3_source(s3_server, uri="s3://api-data/raw", cred="s3-key"):
    return {"type": "s3", "uri": uri, "endpoint": s3_server.endpoint, "credential": cred}


def test_import_s3_prefix_as_dataset_with_provenance(hub, users, s3_server, s3_bucket):
    with users["alice"] as c:
        credential(c, "s3-key", type="s3", access_key_id=s3_server.access_key,
                   secret_access_key=s3_server.secret_key)  # fmt: skip
        vol = volume(c, "imports")
        r = c.post("/transfers", json={
            "source": s3_source(s3_server),
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "raw"},
            "dataset": {"name": f"raw-rows-{hub.backend}", "data_type": "text"},
        })  # fmt: skip
        assert r.status_code == 202, r.text
        t = wait_transfer(c, r.json()["id"])
        assert t["state"] == "complete", t
        assert t["progress"]["files_done"] == 20 and t["attempts"] == 1
        types = {x["type"]: x["status"] for x in t["conditions"]}
        assert types == {
            "Initialized": "True",
            "Running": "False",
            "Complete": "True",
            "Failed": "False",
        }
        ref = t["version"]
        ds_id, number = ref.split("@")
        deadline = time.monotonic() + 60
        while (v := c.get(f"/datasets/{ds_id}/versions/{number}").json())["status"] != "ready":
            assert time.monotonic() < deadline, v
            time.sleep(0.1)
        assert v["files"] == 20
        assert v["provenance"] == {"source": "s3://api-data/raw", "transfer": t["id"]}
        assert v["source"] == {"volume_id": vol["id"], "path": "raw"}
        assert (
            hub.storage_root / "volumes" / vol["id"] / "raw" / "07.txt"
        ).read_text() == "row 7\n"
        audit = c.get("/audit", params={"action": "transfer.create"}).json()["items"]
        assert any(e["target"] == t["id"] for e in audit)
        log = c.get(f"/transfers/{t['id']}/log").json()["text"]
        assert "complete" in log


@sqlite_only
def test_credentials_are_never_returned_nor_usable_by_others(hub, users, s3_server, s3_bucket):
    with users["alice"] as c:
        credential(c, "hf-secret", type="huggingface", token="hf_aliceOnlyToken123")
        listed = c.get("/credentials").json()["items"]
        assert {"name": "hf-secret", "type": "huggingface", "fields": ["token"]}.items() <= next(
            x for x in listed if x["name"] == "hf-secret"
        ).items()
        assert "hf_aliceOnlyToken123" not in c.get("/credentials").text
        assert c.post("/credentials", json={"name": "hf-secret", "type": "huggingface",
                                           "token": "x" * 8}).status_code == 409  # fmt: skip
        r = c.post("/credentials", json={"name": "bad", "type": "s3", "token": "hf_leakMe999"})
        assert r.status_code == 400 and "hf_leakMe999" not in r.text
    with users["bob"] as c:
        assert all(x["name"] != "hf-secret" for x in c.get("/credentials").json()["items"])
        vol = volume(c, "bob-vol")
        r = c.post("/transfers", json={
            "source": {"type": "huggingface", "repo": "org/gated", "credential": "hf-secret"},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "x"},
        })  # fmt: skip
        assert r.status_code == 404 and r.json()["reason"] == "credential-not-found"
        assert c.delete("/credentials/hf-secret").status_code == 404
    with users["root"] as c:  # an admin sees no one else's credentials either
        assert all(x["name"] != "hf-secret" for x in c.get("/credentials").json()["items"])
    with users["alice"] as c:
        assert c.delete("/credentials/hf-secret").status_code == 204
    # stored encrypted: the database file holds no value
    db = hub.home / "fermi_hub_sqlite.sqlite"
    if db.exists():
        assert b"hf_aliceOnlyToken123" not in db.read_bytes()


@sqlite_only
@pytest.mark.parametrize(
    ("body", "reason_text"),
    [
        ({"policy": {"env": {"TOKEN": "x"}}}, "name of a transfer option"),
        ({"policy": {"env": {"LD_PRELOAD": "/tmp/x.so"}}}, "could change"),
        ({"policy": {"extra_args": ["--upload-pack=touch /tmp/x"]}}, "not an allowed"),
        ({"policy": {"extra_args": ["--cache-dir", "/tmp"]}}, "not an allowed"),
        ({"policy": {"sync": True}}, "only for S3 downloads"),
        ({"policy": {"backoff_limit": -1}}, "backoff_limit"),
        ({"source": {"type": "git", "url": "file:///etc"}}, "https://"),
        ({"source": {"type": "git", "url": "https://u:pw@example.org/r.git"}}, "no password"),
        (
            {"source": {"type": "git", "url": "https://example.org/r.git", "token": "t"}},
            "credentials",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_message(hub, users, body, reason_text):
    with users["alice"] as c:
        vol = volume(c, "refusals")
        req = {
            "source": {"type": "git", "url": "https://example.org/r.git"},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "x"},
        }
        for key, value in body.items():
            req[key] = value
        r = c.post("/transfers", json=req)
        assert r.status_code == 400, r.text
        assert r.json()["reason"] == "invalid-transfer" and reason_text in r.json()["message"]


@sqlite_only
def test_others_volumes_and_transfers_are_out_of_reach(hub, users, git_server):
    make_repo(git_server.root, "shared-code", {"a.py": "print(1)\n"})
    with users["carol"] as c:
        carol_vol = volume(c, "carols")
    with users["alice"] as c:
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("shared-code")},
            "sink": {"type": "volume", "volume_id": carol_vol["id"], "path": "x"},
        })  # fmt: skip
        assert r.status_code == 404
        vol = volume(c, "alice-code")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("shared-code")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "../escape"},
        })  # fmt: skip
        assert r.status_code == 400 and r.json()["reason"] == "path-refused"
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("shared-code")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "src"},
        })  # fmt: skip
        tid = r.json()["id"]
        assert wait_transfer(c, tid)["state"] == "complete"
        assert (hub.storage_root / "volumes" / vol["id"] / "src" / "shared-code" / "a.py").exists()
    with users["carol"] as c:
        assert c.get(f"/transfers/{tid}").status_code == 404
        assert c.delete(f"/transfers/{tid}").status_code == 404
        assert c.get(f"/transfers/{tid}/log").status_code == 404
        assert all(t["id"] != tid for t in c.get("/transfers").json()["items"])


@sqlite_only
def test_new_volume_in_the_same_request(hub, users, git_server):
    make_repo(git_server.root, "fresh", {"f.txt": "f\n"})
    with users["dave"] as c:
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("fresh"), "ref": "main"},
            "sink": {"type": "volume", "path": "dev/git",
                     "create_volume": {"name": "datacube-pvc", "capacity": "5Gi", "type": "hdd"}},
        })  # fmt: skip
        assert r.status_code == 202, r.text
        t = wait_transfer(c, r.json()["id"])
        vol = c.get(f"/volumes/{t['sink']['volume_id']}").json()
        assert vol["name"] == "datacube-pvc" and vol["type"] == "hdd"
        assert vol["capacity_bytes"] == 5 * 1024**3
        assert t["state"] == "complete", t
        assert (hub.storage_root / "volumes" / vol["id"] / "dev/git/fresh/f.txt").exists()


@sqlite_only
def test_server_down_is_retried_backoff_limit_times_then_failed(hub, users, s3_server):
    with users["alice"] as c:
        credential(c, "s3-key", type="s3", access_key_id=s3_server.access_key,
                   secret_access_key=s3_server.secret_key)  # fmt: skip
        vol = volume(c, "retries")
        src = {**s3_source(s3_server), "endpoint": f"http://127.0.0.1:{free_port()}"}
        r = c.post("/transfers", json={
            "source": src, "sink": {"type": "volume", "volume_id": vol["id"], "path": "x"},
            "policy": {"backoff_limit": 2},
        })  # fmt: skip
        t = wait_transfer(c, r.json()["id"], timeout=120)
        assert t["state"] == "failed" and t["reason"] == "unreachable", t
        assert t["attempts"] == 3
        assert [a["reason"] for a in t["attempt_history"]] == ["unreachable"] * 3
        assert all(a["message"] for a in t["attempt_history"])
        failed = next(x for x in t["conditions"] if x["type"] == "Failed")
        assert failed["status"] == "True" and failed["message"] == t["error"]
        log = c.get(f"/transfers/{t['id']}/log").json()["text"]
        assert "retrying" in log and "attempt 3" in log
        assert not (hub.storage_root / "volumes" / vol["id"] / "x").exists()


def _partials(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".partial")]


@sqlite_only
def test_deadline_fails_the_attempt_and_retries_then_cancel_leaves_nothing(hub, users, git_server):
    make_repo(git_server.root, "slow", {"big.txt": "x" * 1000})
    with users["alice"] as c:
        vol = volume(c, "slow")
        root = hub.storage_root / "volumes" / vol["id"]
        git_server.delay = 3.0
        try:
            r = c.post("/transfers", json={
                "source": {"type": "git", "url": git_server.url("slow")},
                "sink": {"type": "volume", "volume_id": vol["id"], "path": "code"},
                "policy": {"backoff_limit": 1, "active_deadline_seconds": 1},
            })  # fmt: skip
            t = wait_transfer(c, r.json()["id"], timeout=60)
            assert t["state"] == "failed" and t["reason"] == "deadline", t
            assert [a["reason"] for a in t["attempt_history"]] == ["deadline", "deadline"]
            assert not (root / "code" / "slow").exists() and not _partials(root)

            r = c.post("/transfers", json={
                "source": {"type": "git", "url": git_server.url("slow")},
                "sink": {"type": "volume", "volume_id": vol["id"], "path": "code"},
            })  # fmt: skip
            tid = r.json()["id"]
            wait_transfer(c, tid, until=("running",))
            deadline = time.monotonic() + 20
            while not _partials(root):  # the clone has started writing its staging folder
                assert time.monotonic() < deadline
                time.sleep(0.05)
            r = c.delete(f"/transfers/{tid}")
            assert r.status_code == 202
            t = wait_transfer(c, tid)
            assert t["state"] == "cancelled", t
            assert not (root / "code" / "slow").exists() and not _partials(root)
            assert c.delete(f"/transfers/{tid}").status_code == 409
        finally:
            git_server.delay = 0.0


def _cmdlines() -> str:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError):
                out.append(
                    Path(f"/proc/{pid}/cmdline")
                    .read_bytes()
                    .replace(b"\0", b" ")
                    .decode(errors="replace")
                )
    return "\n".join(out)


@sqlite_only
def test_wrong_token_is_unauthorized_and_the_token_is_nowhere(hub, users, git_server):
    make_repo(git_server.root, "locked", {"w.txt": "w\n"}, private=True)
    url = git_server.url("locked", private=True).replace("http://", "http://$(TOKEN)@")
    with users["alice"] as c:
        vol = volume(c, "tokens")
        credential(c, "git-good", type="git", token=GIT_TOKEN)
        credential(c, "git-bad", type="git", token="glpat-wrongWrongWrong")
        git_server.delay = 1.5
        try:
            r = c.post("/transfers", json={
                "source": {"type": "git", "url": url, "credential": "git-good"},
                "sink": {"type": "volume", "volume_id": vol["id"], "path": "ok"},
            })  # fmt: skip
            good = r.json()["id"]
            seen = ""
            while c.get(f"/transfers/{good}").json()["state"] in ("pending", "running"):
                seen += _cmdlines()  # ps while git runs: no token in any process's arguments
                time.sleep(0.05)
        finally:
            git_server.delay = 0.0
        assert "git" in seen and GIT_TOKEN not in seen
        assert wait_transfer(c, good)["state"] == "complete"
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": url, "credential": "git-bad"},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "bad"},
            "policy": {"backoff_limit": 2},
        })  # fmt: skip
        bad = wait_transfer(c, r.json()["id"])
        assert bad["state"] == "failed" and bad["reason"] == "unauthorized", bad
        assert bad["attempts"] == 1  # not worth retrying
        paths = [
            f"/transfers/{good}",
            f"/transfers/{bad['id']}",
            f"/transfers/{bad['id']}/log",
            f"/transfers/{good}/log",
            "/transfers",
            "/credentials",
            "/audit",
            "/jobs",
        ]
        answers = "".join(c.get(p).text for p in paths)
    for secret in (GIT_TOKEN, "glpat-wrongWrongWrong"):
        assert secret not in answers
        assert secret not in hub.log_text()
        for f in (hub.storage_root / "transfers").iterdir():
            assert secret not in f.read_text()
        assert (
            secret
            not in (hub.storage_root / "volumes" / vol["id"] / "ok/locked/.git/config").read_text()
        )


@sqlite_only
def test_client_imports_from_the_hub_and_exports_a_version(hub, users, hub_server):
    from fermi_jupyter.client import RegistryClient, TransferFailed

    from .conftest import HF_TOKEN

    hub_server.add("team/tiny-model", {"config.json": b"{}", "w/part.bin": b"\x00" * 4096})
    with RegistryClient(hub.registry_url, users.tokens["bob"]) as rc:
        rc.create_credential("hf-write", "huggingface", token=HF_TOKEN)
        assert [c["name"] for c in rc.credentials()] == ["hf-write"]
        vol = rc.create_volume("models-bob", "5Gi")
        t = rc.start_transfer(
            {"type": "huggingface", "repo": "team/tiny-model", "endpoint": hub_server.endpoint},
            {"type": "volume", "volume_id": vol.id, "path": "hf/tiny"},
            dataset={"name": "tiny-model"},
        )
        t = rc.wait_transfer(t.id, timeout=60)
        sha = hub_server.repos[("model", "team/tiny-model")].refs["main"]
        assert t.result["revision"] == sha
        ds_id, number = t.version.split("@")
        v = rc.wait(ds_id, int(number), timeout=60)
        assert v.raw["provenance"]["source"] == f"huggingface:team/tiny-model@{sha}"
        # the version (read-only source) goes back out to another repository
        up = rc.start_transfer(
            {"type": "dataset", "version": t.version},
            {"type": "huggingface", "repo": "bob/tiny-copy", "endpoint": hub_server.endpoint,
             "credential": "hf-write", "commit_message": "copy"},
        )  # fmt: skip
        up = rc.wait_transfer(up.id, timeout=60)
        copy = hub_server.repos[("model", "bob/tiny-copy")]
        assert copy.commits[copy.refs["main"]]["w/part.bin"] == b"\x00" * 4096
        # an upload with a credential of the wrong type is refused up front
        with pytest.raises(Exception, match="huggingface credential"):
            rc.start_transfer(
                {"type": "dataset", "version": t.version},
                {"type": "s3", "uri": "s3://x-bucket/y", "credential": "hf-write"},
            )
        bad = rc.start_transfer(
            {"type": "huggingface", "repo": "team/missing", "endpoint": hub_server.endpoint},
            {"type": "volume", "volume_id": vol.id, "path": "hf/missing"},
        )
        with pytest.raises(TransferFailed) as err:
            rc.wait_transfer(bad.id, timeout=60)
        assert err.value.reason == "not-found"
        rc.delete_credential("hf-write")


@sqlite_only
def test_registry_killed_mid_transfer_is_resumed_by_the_other(hub, users, git_server):
    import signal

    make_repo(git_server.root, "crashy", {"c.txt": "c\n"})
    with users["alice"] as c:
        vol = volume(c, "crash")
        root = hub.storage_root / "volumes" / vol["id"]
        git_server.delay = 5.0
        try:
            r = c.post("/transfers", json={
                "source": {"type": "git", "url": git_server.url("crashy")},
                "sink": {"type": "volume", "volume_id": vol["id"], "path": "code"},
                "policy": {"backoff_limit": 1},
            })  # fmt: skip
            tid = r.json()["id"]
            deadline = time.monotonic() + 20
            while not _partials(root):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # the registry process running it: the job process whose child the attempt is
            (attempt,) = [p for p in os.listdir("/proc") if p.isdigit() and _is_attempt(p)]
            pid = _ppid(attempt)
            assert Path(f"/proc/{pid}/comm").read_text().strip() == JOB_PROCESS_NAME
            children = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == pid]
            assert attempt in children
            os.kill(pid, signal.SIGKILL)
            git_server.delay = 0.0
            # the attempt's process died with its registry (parent-death signal)
            deadline = time.monotonic() + 10
            while any(
                os.path.exists(f"/proc/{p}") and _ppid(p) != 0 for p in children if _alive(p)
            ):
                assert time.monotonic() < deadline, "a transfer process outlived its registry"
                time.sleep(0.1)
        finally:
            git_server.delay = 0.0
    with hub.client(users.tokens["alice"], hub.registry_b_url) as c:
        t = wait_transfer(c, tid, timeout=120)
    assert t["state"] == "complete", t
    assert [a["reason"] for a in t["attempt_history"]] == ["interrupted", None]
    assert (root / "code" / "crashy" / "c.txt").read_text() == "c\n"
    assert not _partials(root)
    hub.wait_ready(timeout=90)


def _ppid(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _is_attempt(pid: str) -> bool:
    """A transfer attempt's process (``python -m fermi_jupyter.transfers.run``)."""
    try:
        return b"fermi_jupyter.transfers.run" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: str) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@sqlite_only
def test_transfer_events_reach_their_owner_only(hub, users, git_server):
    """Events are per registry process, and either of the two may run the job: listen to both."""
    import json
    import threading

    import httpx

    make_repo(git_server.root, "evented", {"e.txt": "e\n"})
    seen: dict[str, list[dict]] = {"alice": [], "bob": []}
    done = threading.Event()
    target: dict[str, str] = {}
    urls = (hub.registry_url, hub.registry_b_url)
    ready = threading.Barrier(5, timeout=30)

    def listen(who: str, url: str) -> None:
        try:
            _listen(who, url)
        except httpx.HTTPError:
            # bob's streams never see alice's transfer: they read on until the registry stops
            if not done.is_set():
                raise

    def _listen(who: str, url: str) -> None:
        headers = {"Authorization": f"token {users.tokens[who]}"}
        with httpx.stream("GET", url + "/events", headers=headers, timeout=30) as r:
            event = None
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    ready.wait()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "transfer":
                    data = json.loads(line[6:])
                    seen[who].append(data)
                    # this test's transfer, not one of an earlier test ending late
                    if data["state"] == "complete" and data["id"] == target.get("id"):
                        done.set()
                if done.is_set():
                    return

    threads = [
        threading.Thread(target=listen, args=(w, u), daemon=True)
        for w in ("alice", "bob")
        for u in urls
    ]
    for t in threads:
        t.start()
    ready.wait()
    with users["alice"] as c:
        vol = volume(c, "events")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("evented")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "e"},
        })  # fmt: skip
        tid = target["id"] = r.json()["id"]
        assert wait_transfer(c, tid)["state"] == "complete"
    assert done.wait(30)
    time.sleep(1)  # bob's streams got the same events at the same time, if any
    states = [e["state"] for e in seen["alice"] if e["id"] == tid]
    assert "running" in states and states[-1] == "complete"
    assert all("_acl" not in e for e in seen["alice"])
    assert not [e for e in seen["bob"] if e["id"] == tid]


@sqlite_only
@pytest.mark.parametrize(
    ("create_volume", "status", "words"),
    [
        ({"name": "nv-bad-type", "type": "nvme"}, 400, "sink.create_volume.type must be one of"),
        ({"name": "nv-bad-size", "capacity": "lots"}, 400, "capacity"),
        ({"name": "nv-extra", "colour": "red"}, 400, "sink.create_volume: colour"),
        ({"capacity": "1Gi"}, 400, "sink.create_volume.name is required"),
        ({"name": "nv-pvc", "backend": "pvc", "pvc_name": "x"}, 400, "platform storage only"),
        ({"name": "nv-taken"}, 409, "already have a volume named"),
    ],
)
def test_a_new_volume_is_checked_as_post_volumes_and_nothing_is_made_on_refusal(
    hub, users, create_volume, status, words
):
    with users["dave"] as c:
        volume(c, "nv-taken")
        before = {v["name"] for v in c.get("/volumes").json()["items"]}
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": "https://example.org/r.git"},
            "sink": {"type": "volume", "path": "x", "create_volume": create_volume},
        })  # fmt: skip
        assert r.status_code == status, r.text
        assert set(r.json()) == {"message", "reason"} and words in r.json()["message"], r.json()
        assert r.json()["reason"] == ("exists" if status == 409 else "invalid-transfer")
        assert {v["name"] for v in c.get("/volumes").json()["items"]} == before


@sqlite_only
def test_import_as_a_new_version_of_an_existing_dataset(hub, users, git_server):
    make_repo(git_server.root, "versioned", {"v.txt": "one\n"})
    with users["dave"] as c:
        vol = volume(c, "versioned")
        first = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("versioned")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "v1"},
            "dataset": {"name": "dave-versioned"},
        })  # fmt: skip
        t1 = wait_transfer(c, first.json()["id"])
        assert t1["state"] == "complete" and t1["version"].endswith("@1"), t1
        ds_id = t1["version"].split("@")[0]
        # a name already taken: refused before anything runs, pointing at "id"
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("versioned")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "v2"},
            "dataset": {"name": "dave-versioned"},
        })  # fmt: skip
        assert r.status_code == 409 and ds_id in r.json()["message"], r.text
        second = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("versioned")},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "v2"},
            "dataset": {"id": ds_id, "message": "nightly"},
            "policy": {"backoff_limit": 1, "active_deadline_seconds": 600,
                       "extra_args": ["--depth", "1"], "env": {"LC_FERMI_TEST": "1"}},
        })  # fmt: skip
        assert second.status_code == 202, second.text
        assert second.json()["policy"]["extra_args"] == ["--depth=1"]
        t2 = wait_transfer(c, second.json()["id"])
        assert t2["state"] == "complete" and t2["version"] == f"{ds_id}@2", t2
        deadline = time.monotonic() + 60
        while (v := c.get(f"/datasets/{ds_id}/versions/2").json())["status"] != "ready":
            assert time.monotonic() < deadline, v
            time.sleep(0.1)
        assert v["message"] == "nightly"
        assert v["provenance"]["transfer"] == t2["id"]
        assert v["provenance"]["source"].startswith("git:")
    # only the owner adds versions: another user naming dave's dataset is refused
    with users["bob"] as c:
        bvol = volume(c, "bob-versioned")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": git_server.url("versioned")},
            "sink": {"type": "volume", "volume_id": bvol["id"], "path": "x"},
            "dataset": {"id": ds_id},
        })  # fmt: skip
        assert r.status_code in (400, 404) and set(r.json()) == {"message", "reason"}, r.text
        assert r.json()["reason"] in ("forbidden", "dataset-not-found"), r.text


@sqlite_only
def test_a_volume_on_a_pvc_of_its_own_is_refused_with_what_to_do(hub, users):
    """Transfers (local children or Kubernetes Jobs) reach the platform's storage claim only;
    a volume that is a PVC of its own is refused before anything starts, in words."""
    with users["dave"] as c:
        r = c.post("/volumes", json={"name": "own-claim", "backend": "pvc", "pvc_name": "x"})
        assert r.status_code == 201, r.text
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": "https://example.org/r.git"},
            "sink": {"type": "volume", "volume_id": r.json()["id"], "path": "x"},
        })  # fmt: skip
        assert r.status_code == 400, r.text
        assert "is a PVC of its own" in r.json()["message"], r.json()
        assert "Kubernetes" not in r.json()["message"]
        assert not [t for t in c.get("/transfers").json()["items"] if t["sink"].get("path") == "x"]
