"""The CLI verbs beyond the workflow loop, as a subprocess against the real registry: edit,
aliases, diff, lineage, manifest, delete (refused while mounted), cancel, jobs, volumes, usage,
audit, mount records, events — each with its text, its ``--json`` and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ..support.trees import make_slow_tree, make_tree
from .test_cli import fermi


def ok(server, *args: str, **kw) -> str:
    r = fermi(server, *args, **kw)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def refused(server, *args: str, code: int = 1) -> str:
    r = fermi(server, *args)
    assert r.returncode == code, (args, r.stdout, r.stderr)
    assert r.stderr.startswith("fermi: ") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


@pytest.fixture(scope="module")
def two_versions(server):
    """cli-diff@1 and @2 (one file added, one removed, one changed), registered here, so both
    name the dataset version mounted here as their parent."""
    out = server.workspace / "cli-diff"
    make_tree(out, 4, 300, seed=61, dirs=1)
    ok(server, "register", "cli-diff", "--name", "cli-diff", "--wait")
    (out / "part-000" / "sample-000000.bin").unlink()
    (out / "part-000" / "sample-000001.bin").write_bytes(b"x" * 10)
    (out / "part-000" / "new.bin").write_bytes(b"y" * 2048)
    ok(server, "register", "cli-diff", "--version-of", "cli-diff", "--wait")
    return out


def test_create_show_edit(server):
    ok(server, "create", "cli-edit", "--description", "first words")
    text = ok(
        server, "edit", "cli-edit", "--visibility", "team", "--team", "vision",
        "--tag", "扩增", "--tag", "清洗", "--type", "image", "--description", "second words",
    )  # fmt: skip
    assert text.splitlines()[0] == "alice/cli-edit  team (vision)"
    assert "tags: 扩增, 清洗" in text and "type: image" in text
    shown = json.loads(ok(server, "show", "cli-edit", "--json"))
    assert (shown["visibility"], shown["team"], shown["tags"]) == (
        "team",
        "vision",
        ["扩增", "清洗"],
    )
    assert shown["description"] == "second words" and shown["mounted_here"] == []
    ok(server, "edit", "cli-edit", "--rename", "cli-edited")
    assert json.loads(ok(server, "show", "cli-edited", "--json"))["id"] == shown["id"]
    assert "nothing to change" in refused(server, "edit", "cli-edited")
    assert "team" in refused(server, "edit", "cli-edited", "--team", "audio")  # not a member
    refused(server, "edit", "cli-edited", "--visibility", "everyone", code=2)


def test_alias_and_unalias(server, two_versions):
    assert ok(server, "alias", "cli-diff@1", "production").strip() == (
        "production now names cli-diff@1"
    )
    assert json.loads(ok(server, "status", "cli-diff@production", "--json"))["number"] == 1
    moved = json.loads(ok(server, "alias", "cli-diff@latest", "production", "--json"))
    assert moved["name"] == "production" and moved["version"] == 2
    assert "production→2" in ok(server, "show", "cli-diff")
    assert ok(server, "unalias", "cli-diff", "production").strip() == (
        "removed the alias production of cli-diff"
    )
    assert "production" in refused(server, "status", "cli-diff@production")
    assert "latest" in refused(server, "alias", "cli-diff@1", "latest")  # reserved


def test_diff_from_the_manifests(server, two_versions):
    text = ok(server, "diff", "cli-diff@1", "cli-diff@2")
    lines = text.splitlines()
    assert lines[0] == (
        "cli-diff@1 → cli-diff@2: 1 added (2.0 KiB), 1 removed (300 B), 1 changed, 2 unchanged"
    )
    assert lines[2:] == [
        "+       part-000/new.bin            2.0 KiB",
        "-       part-000/sample-000000.bin  300 B",
        "~       part-000/sample-000001.bin  300 B → 10 B",
    ]
    d = json.loads(ok(server, "diff", "cli-diff@1", "cli-diff@2", "--json"))
    assert d["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 2}
    # against another dataset's version, and the other way round
    back = json.loads(ok(server, "diff", "cli-diff@2", "cli-diff@1", "--json"))
    assert back["added"] == [{"path": "part-000/sample-000000.bin", "size": 300}]
    assert "no differences" in ok(server, "diff", "cli-diff@2", "cli-diff@latest")
    refused(server, "diff", "cli-diff@1", code=2)
    assert "neither a version number nor an alias" in refused(
        server, "diff", "cli-diff@1", "cli-diff@x y"
    )


def test_lineage_and_manifest(server, two_versions):
    text = ok(server, "lineage", "cli-diff@2")
    assert text.splitlines()[2].split() == ["parent", "cli-source@1", "alice", "ready"]
    children = json.loads(ok(server, "lineage", "cli-source@1", "--json"))["children"]
    assert {"cli-diff@1", "cli-diff@2"} <= {n["label"] for n in children}
    text = ok(server, "manifest", "cli-diff@2")
    assert text.splitlines()[1].split() == ["PATH", "SIZE", "DIGEST"]
    entries = json.loads(ok(server, "manifest", "cli-diff@2", "--json"))
    assert [e["path"] for e in entries] == [
        "part-000/new.bin",
        "part-000/sample-000001.bin",
        "part-000/sample-000002.bin",
        "part-000/sample-000003.bin",
    ]
    assert all(e["digest"] and e["size"] for e in entries)


def test_delete_is_refused_while_mounted_naming_the_server(server, users, two_versions):
    ds = json.loads(ok(server, "show", "cli-diff", "--json"))["id"]
    with users["alice"] as c:  # what a spawner records when a server mounts cli-diff@1
        c.put("/mounts/alice/cli-test", json={"mounts": [{"version": f"{ds}@1"}]})
    try:
        records = ok(server, "mounts", "--all")
        assert "alice/cli-test" in records and f"{ds}@1" in records
        assert "alice/cli-test" in refused(server, "delete", "cli-diff@1")
        assert "alice/cli-test" in refused(server, "delete", "cli-diff", "--dataset")
    finally:
        with users["alice"] as c:
            c.delete("/mounts/alice/cli-test")
    assert "which version" in refused(server, "delete", "cli-diff")
    assert ok(server, "delete", "cli-diff@1").strip() == "deleted cli-diff@1"
    assert [v["number"] for v in json.loads(ok(server, "versions", "cli-diff", "--json"))] == [2]
    gone = json.loads(ok(server, "delete", "cli-diff", "--dataset", "--json"))
    assert gone == {"deleted": "cli-diff"}
    assert "no dataset" in refused(server, "show", "cli-diff")


def test_cancel_jobs_and_job(server):
    make_slow_tree(server.workspace / "cli-slow-holes", files=400)
    v = json.loads(
        ok(server, "register", "cli-slow-holes", "--name", "cli-cancel", "--mode", "reference",
           "--json")
    )  # fmt: skip
    assert v["status"] in ("pending", "processing")
    text = ok(server, "cancel", "cli-cancel@1")
    assert text.startswith("job ") and f"(register of {v['ref']})" in text
    job_id = int(text.split()[1])
    deadline = time.monotonic() + 60
    while json.loads(ok(server, "status", "cli-cancel@1", "--json"))["status"] != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert "nothing to cancel" in refused(server, "cancel", "cli-cancel@1")
    assert "nothing to cancel" in refused(server, "cancel", "cli-source@1")
    job = json.loads(ok(server, "job", str(job_id), "--json"))
    assert (job["kind"], job["state"], job["version"]) == ("register", "cancelled", v["ref"])
    assert "nothing to cancel" in refused(server, "job", str(job_id), "--cancel")
    listed = ok(server, "jobs", "--state", "cancelled")
    assert any(
        line.split()[:3] == [str(job_id), "register", "cancelled"] for line in listed.splitlines()
    )
    assert "no job" in refused(server, "job", "999999999")
    refused(server, "job", "abc", code=2)
    refused(server, "jobs", "--state", "sleeping", code=2)


def test_volume_create_usage_and_ls(server):
    text = ok(server, "volume", "create", "cli-scratch", "--capacity", "5Gi", "--type", "hdd")
    assert text.split()[0] == "cli-scratch" and "hdd" in text and "5.0 GiB" in text
    usage = ok(server, "usage", "cli-scratch")
    assert usage.splitlines()[0].startswith("Usage of cli-scratch (")  # with the type's hint
    assert json.loads(ok(server, "usage", "cli-scratch", "--json"))[0]["capacity_bytes"] == 5 << 30
    assert "cli-scratch:/: empty folder" in ok(server, "ls", "cli-scratch:")
    assert "already have a volume" in refused(server, "volume", "create", "cli-scratch")
    assert "no volume" in refused(server, "usage", "no-such-volume")


def test_audit_shows_what_you_did(server):
    text = ok(server, "audit", "--action", "dataset.create", "--limit", "100")
    assert text.splitlines()[1].split() == ["AT", "ACTOR", "ACTION", "TARGET"]
    events = json.loads(ok(server, "audit", "--actor", "alice", "--limit", "5", "--json"))
    assert 0 < len(events) <= 5 and {e["actor"] for e in events} == {"alice"}


def test_events_follow_a_registration(server):
    make_tree(server.workspace / "cli-events", 2, 100, seed=62)
    env = {**os.environ, **server.env}
    follower = subprocess.Popen(
        [sys.executable, "-m", "fermi_jupyter.cli", "events", "--count", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        ok(server, "create", "cli-events")
        for _ in range(20):  # until the follower has connected and seen one
            ok(server, "register", "cli-events", "--version-of", "cli-events", "--wait")
            if follower.poll() is not None:
                break
        out, err = follower.communicate(timeout=60)
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    event = json.loads(out.splitlines()[0])
    assert event["event"] == "version" and event["dataset_name"] == "cli-events"
    assert {"rate_bytes_per_s", "eta_seconds", "stalled_since"} <= set(event["progress"])


def test_info(server):
    assert (
        ok(server, "info").strip().endswith("acting as alice; the registry answers; 2 mounts here")
    )
    info = json.loads(ok(server, "info", "--json"))
    assert info["registry_reachable"] is True and "not-cancellable" in info["reasons"]
    r = fermi(server, "info", env={"FERMI_REGISTRY_URL": "http://127.0.0.1:9/api/v1"})
    assert r.returncode == 0 and "no registry: cannot reach the registry" in r.stdout


def test_register_and_restore_through_a_volume_not_mounted_here(server, hub):
    ok(server, "volume", "create", "cli-remote", "--capacity", "1Gi", "--zone", "zone-a")
    vol = json.loads(ok(server, "usage", "cli-remote", "--json"))[0]
    assert vol["zone"] == "zone-a" and vol["mount_path"] is None
    make_tree(hub.storage_root / "volumes" / vol["id"] / "src", 3, 200, seed=63)
    v = json.loads(
        ok(server, "register", "cli-remote:src", "--name", "cli-remote", "--wait", "--json")
    )
    assert v["status"] == "ready" and v["source"] == {"volume_id": vol["id"], "path": "src"}
    assert v["parents"] == [f"{server.dataset['id']}@1"]  # still this server's lineage
    assert "restored" in ok(server, "restore", "cli-remote@1", "cli-remote:copy")
    copied = hub.storage_root / "volumes" / vol["id"] / "copy"
    assert sorted(p.name for p in copied.rglob("*.bin")) == sorted(
        p.name for p in (hub.storage_root / "volumes" / vol["id"] / "src").rglob("*.bin")
    )
    assert "no volume" in refused(server, "register", "nope-vol:src", "--name", "x")
