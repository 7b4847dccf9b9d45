"""The ``fermi`` CLI as a subprocess against the real registry: every verb, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..support.trees import content_map, independent_digest, make_tree


def fermi(server, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **server.env, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fermi_jupyter.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=server.workspace,
        timeout=120,
    )


def test_mounts_and_volumes(server):
    r = fermi(server, "mounts")
    assert r.returncode == 0, r.stderr
    assert "read-only" in r.stdout and "read-write" in r.stdout and "ready" in r.stdout
    data = json.loads(fermi(server, "--json", "mounts").stdout)
    assert [m["kind"] for m in data] == ["dataset", "volume"]
    r = fermi(server, "volumes")
    assert r.returncode == 0 and "cli-work" in r.stdout and str(server.workspace) in r.stdout


def test_ls_local_and_through_the_registry(server):
    r = fermi(server, "ls", "raw")
    assert r.returncode == 0 and "part-000/" in r.stdout
    r = fermi(server, "ls", "cli-work:raw")
    assert r.returncode == 0 and "part-000/" in r.stdout
    r = fermi(server, "ls", "no-such-volume:x")
    assert r.returncode == 1 and "no volume" in r.stderr


def test_datasets_versions_status(server):
    r = fermi(server, "datasets", "cli-source")
    assert r.returncode == 0 and "cli-source" in r.stdout and "org" in r.stdout
    r = fermi(server, "versions", "cli-source")
    assert r.returncode == 0 and "ready" in r.stdout
    r = fermi(server, "status", "cli-source@1")
    assert r.returncode == 0 and "cli-source" not in r.stderr and "ready" in r.stdout
    status = json.loads(fermi(server, "--json", "status", "cli-source@latest").stdout)
    assert status["number"] == 1 and status["status"] == "ready"


def test_register_wait_with_lineage_then_verify_and_restore(server):
    out = server.workspace / "augmented"
    make_tree(out, 20, 900, seed=32)
    r = fermi(
        server,
        "register",
        str(out),
        "--name",
        "cli-augmented",
        "--type",
        "image",
        "--message",
        "3x flips",
        "--wait",
    )
    assert r.returncode == 0, r.stderr
    assert "ready" in r.stdout and "parents:" in r.stdout
    v1_content = content_map(out)
    v = json.loads(fermi(server, "--json", "status", "cli-augmented@1").stdout)
    assert v["digest"] == independent_digest(out)[0]
    assert v["parents"] == [f"{server.dataset['id']}@1"]  # the dataset mounted here
    assert v["source"] == {"volume_id": server.volume["id"], "path": "augmented"}

    (out / "more.txt").write_text("second version")
    r = fermi(server, "register", "augmented", "--version-of", "cli-augmented", "--wait")
    assert r.returncode == 0 and "@2" in r.stdout

    r = fermi(server, "verify", "cli-augmented@2")
    assert r.returncode == 0 and "intact" in r.stdout
    r = fermi(server, "restore", "cli-augmented@1", "restored-v1")
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout
    assert content_map(server.workspace / "restored-v1") == v1_content


def test_refusals_are_one_line_with_exit_codes(server):
    r = fermi(server, "register", str(server.dataset_mount), "--name", "nope")
    assert r.returncode == 1 and "read-only dataset mount" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = fermi(server, "register", "/etc", "--name", "nope")
    assert r.returncode == 1 and "not inside a mounted volume" in r.stderr
    r = fermi(server, "register", "raw", "--name", "cli-source")  # exists already
    assert r.returncode == 1 and "--version-of cli-source" in r.stderr
    r = fermi(server, "status", "nope@1")
    assert r.returncode == 1 and "no dataset" in r.stderr
    r = fermi(server, "status", "bad ref@x y")
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr
    r = fermi(server, "register", "raw")
    assert r.returncode == 2 and "--name" in r.stderr
    r = fermi(server, "frobnicate")
    assert r.returncode == 2
    r = fermi(server, "datasets", env={"FERMI_REGISTRY_URL": "http://127.0.0.1:9/api/v1"})
    assert r.returncode == 3 and "cannot reach the registry" in r.stderr
    r = fermi(server, "datasets", env={"JUPYTERHUB_API_TOKEN": "forged"})
    assert r.returncode == 1 and "log in" in r.stderr


def test_another_users_token_never_reaches_alices_private_data(server, users, hub):
    with users["alice"] as c:
        c.post("/datasets", json={"name": "cli-private"})
    r = fermi(
        server, "datasets", "cli-private", env={"JUPYTERHUB_API_TOKEN": users.tokens["carol"]}
    )
    assert r.returncode == 0 and "no dataset matches" in r.stdout
    r = fermi(
        server,
        "--json",
        "datasets",
        "cli-private",
        env={"JUPYTERHUB_API_TOKEN": users.tokens["carol"]},
    )
    assert json.loads(r.stdout) == []
    r = fermi(
        server, "versions", "alice/cli-private", env={"JUPYTERHUB_API_TOKEN": users.tokens["carol"]}
    )
    assert r.returncode == 1 and "no dataset" in r.stderr


def test_help(server):
    r = fermi(server, "help")
    assert r.returncode == 0 and "register PATH --name NAME" in r.stdout


def test_options_after_the_verb_and_the_installed_script(server):
    import pathlib

    r = fermi(server, "status", "cli-source@1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "ready"
    script = pathlib.Path(sys.executable).parent / "fermi"
    r = subprocess.run(
        [str(script), "versions", "cli-source", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **server.env},
        timeout=60,
    )
    assert r.returncode == 0 and json.loads(r.stdout)[0]["number"] == 1
    r = fermi(server)
    assert r.returncode == 0 and "restore NAME@N PATH" in r.stdout


def test_timeout_exit_code_and_register_json(server):
    out = server.workspace / "cli-slow"
    make_tree(out, 600, 2000, seed=33, dirs=20)
    r = fermi(server, "register", "cli-slow", "--name", "cli-slow", "--wait", "--timeout", "0.001")
    assert r.returncode == 4 and "fermi status cli-slow@1" in r.stderr
    r = fermi(server, "--json", "register", "cli-slow", "--version-of", "cli-slow")
    assert r.returncode == 0 and json.loads(r.stdout)["number"] == 2
    r = fermi(server, "--json", "status", "cli-slow@2")
    assert json.loads(r.stdout)["parents"] == [f"{server.dataset['id']}@1"]


def test_outside_a_fermi_server(server):
    r = fermi(server, "mounts", env={"FERMI_MOUNTS": ""})
    assert r.returncode == 0 and "nothing is mounted" in r.stdout
    r = fermi(server, "register", "raw", "--name", "x", env={"FERMI_MOUNTS": ""})
    assert r.returncode == 1 and "volumes here: none" in r.stderr
    r = fermi(server, "datasets", env={"FERMI_REGISTRY_URL": ""})
    assert r.returncode == 1 and "set FERMI_REGISTRY_URL" in r.stderr
    r = fermi(server, "mounts", env={"FERMI_MOUNTS": "[{oops"})
    assert r.returncode == 1 and "restart the server from the hub" in r.stderr


def test_refused_registration_leaves_no_empty_dataset(server, users):
    """carol's token with a plan claiming alice's volume: refused, and nothing left behind."""
    carol = {"JUPYTERHUB_API_TOKEN": users.tokens["carol"]}
    r = fermi(server, "register", "raw", "--name", "cli-carol-steal", env=carol)
    assert r.returncode == 1 and r.stderr.startswith("fermi: ")
    r = fermi(server, "--json", "datasets", "cli-carol-steal", env=carol)
    assert json.loads(r.stdout) == []
