"""``fermi import|export|transfers|transfer|credential(s)`` as a subprocess against the real
registry, with real Git and S3 servers on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..support.git_server import make_repo
from ..transfers.conftest import GIT_TOKEN, git_server, s3_server  # noqa: F401 (fixtures)

sqlite_only = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


def fermi(server, *args: str, input_text: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fermi_jupyter.cli", *args],
        input=input_text, capture_output=True, text=True, env={**os.environ, **server.env},
        cwd=server.workspace, timeout=120,
    )  # fmt: skip


@sqlite_only
def test_credential_import_as_dataset_log_and_export(server, git_server, s3_server):  # noqa: F811
    make_repo(git_server.root, "cli-repo", {"data/a.txt": "a\n"}, private=True)
    url = git_server.url("cli-repo", private=True).replace("http://", "http://$(TOKEN)@")
    fermi(server, "credential", "delete", "cli-git")
    r = fermi(server, "credential", "add", "cli-git", "--type", "git", input_text=GIT_TOKEN + "\n")
    assert r.returncode == 0, r.stderr
    r = fermi(server, "credentials")
    assert "cli-git" in r.stdout and GIT_TOKEN not in r.stdout

    dest = str(server.workspace / "imports")
    r = fermi(server, "--json", "import", url, dest, "--credential", "cli-git",
              "--dataset", "cli-imported", "--wait")  # fmt: skip
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    assert t["state"] == "complete" and t["version"], t
    assert (server.workspace / "imports" / "cli-repo" / "data" / "a.txt").read_text() == "a\n"
    r = fermi(server, "lineage", "cli-imported@1")
    assert r.returncode == 0 and "from" in r.stdout and "git:http://127.0.0.1" in r.stdout

    r = fermi(server, "transfers")
    assert r.returncode == 0 and t["id"] in r.stdout and "complete" in r.stdout
    r = fermi(server, "transfer", t["id"], "--log")
    assert r.returncode == 0 and "complete" in r.stdout and GIT_TOKEN not in r.stdout

    s3 = s3_server.client()
    s3.create_bucket(Bucket="cli-export")
    fermi(server, "credential", "delete", "cli-s3")
    r = fermi(server, "credential", "add", "cli-s3", "--type", "s3", "--access-key-id",
              s3_server.access_key, input_text=s3_server.secret_key + "\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = fermi(server, "export", "cli-work:raw", "s3://cli-export/raw", "--endpoint",
              s3_server.endpoint, "--credential", "cli-s3", "--wait")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "complete" in r.stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cli-export")["Contents"]]
    assert len(keys) == 8 and all(k.startswith("raw/") for k in keys)


@sqlite_only
def test_refusals_and_failures_are_one_line(server, git_server):  # noqa: F811
    r = fermi(server, "import", "ftp://example.org/x", "cli-work:x")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a remote place" in r.stderr
    r = fermi(server, "import", "s3://bucket/x", "/etc/passwd")
    assert r.returncode == 2 and "mounted here" in r.stderr
    r = fermi(server, "import", git_server.url("no-such-repo"), "cli-work:missing", "--wait")
    assert r.returncode == 1 and "failed" in r.stderr and r.stderr.count("\n") == 1
