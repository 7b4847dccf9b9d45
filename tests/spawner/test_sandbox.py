"""The local sandbox for real: bubblewrap with a mount plan, started as the servers'
unprivileged host user with the servers' runtime. Inside it the volume is writable (and what
is written is that user's on the host), the dataset is not (EROFS), remounting fails, host
secrets and the rest of the storage root are out of reach; a bound folder holding the hub's
state, or a source reached through a symbolic link, is refused before anything starts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from fermi_jupyter.spawner import runtime
from fermi_jupyter.spawner.plan import dataset_mount, volume_mount
from fermi_jupyter.spawner.sandbox import (
    SandboxError,
    bwrap_args,
    check_protected,
    check_sources,
    own_volume_roots,
    prepare_home,
    storage_binds,
)

PROBE = textwrap.dedent("""
    import errno, json, os, subprocess, sys
    out = {}
    with open("/workspace/result.txt", "w") as f:
        f.write("written from the sandbox")
    out["volume_write"] = "ok"
    def attempt(name, fn):
        try:
            fn()
            out[name] = "ok"
        except OSError as e:
            out[name] = errno.errorcode[e.errno]
    attempt("dataset_write", lambda: open("/datasets/imagenet/new.txt", "w"))
    attempt("dataset_chmod", lambda: os.chmod("/datasets/imagenet/a.txt", 0o666))
    attempt("shadow", lambda: open("/etc/shadow").read())
    r = subprocess.run(["mount", "-o", "remount,rw,bind", "/datasets/imagenet"],
                       capture_output=True, text=True)
    out["remount_rc"] = r.returncode
    out["dataset_files"] = sorted(os.listdir("/datasets/imagenet"))
    out["root_entries"] = sorted(os.listdir("/"))
    storage = sys.argv[1]
    out["storage_visible"] = os.path.exists(storage) or os.path.exists(storage + "/volumes")
    out["uid"] = os.getuid()
    out["cap_eff"] = [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1]
    print(json.dumps(out))
""")


def _plan():
    return [
        dataset_mount(
            "d",
            {"number": 3, "status": "ready", "storage_path": "datasets/ds-abc/3"},
            {"id": "ds-abc", "name": "imagenet", "zone": None},
            None,
            "/home/jovyan",
        ),
        volume_mount(
            "v",
            {"id": "vol-xyz", "name": "work", "backend": "root", "storage_path": "volumes/vol-xyz"},
            None,
            False,
            "/home/jovyan",
        ),
    ]


@pytest.fixture
def tmp_path():
    """Like pytest's, but one the servers' user may pass through (as FERMI_HOME is)."""
    path = Path(tempfile.mkdtemp(prefix="fermi-sandbox-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "storage"
    version = root / "datasets" / "ds-abc" / "3"
    version.mkdir(parents=True)
    (version / "a.txt").write_text("dataset file")
    (root / "volumes" / "vol-xyz").mkdir(parents=True)
    (root / "volumes" / "vol-other").mkdir(parents=True)
    (root / "volumes" / "vol-other" / "secret.txt").write_text("someone else's")
    for d in (root, root / "datasets", root / "datasets" / "ds-abc", version, root / "volumes"):
        os.chmod(d, 0o755)
    return root


def test_sandbox_enforces_the_plan_as_an_unprivileged_user(
    tmp_path, storage, server_python, server_ids
):
    uid, gid = server_ids
    plan = _plan()
    home = tmp_path / "homes" / "alice"
    os.makedirs(home.parent, mode=0o711, exist_ok=True)
    prepare_home(home, uid, gid)
    own_volume_roots(plan, str(storage), uid, gid)
    check_sources(plan, str(storage))
    rt = runtime.probe(server_python, uid, gid)
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o755)
    (probe / "probe.py").write_text(PROBE)
    args = bwrap_args(
        storage_binds(plan, str(storage)),
        home_source=str(home),
        home="/home/jovyan",
        runtime=[*rt.paths, str(probe)],
    )
    as_user = {"user": uid, "group": gid, "extra_groups": []} if os.geteuid() == 0 else {}
    r = subprocess.run(
        [*args, rt.python, str(probe / "probe.py"), str(storage)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        **as_user,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    written = storage / "volumes" / "vol-xyz" / "result.txt"
    assert written.read_text() == "written from the sandbox"
    assert (written.stat().st_uid, written.stat().st_gid) == (uid, gid)  # never root's
    assert out["dataset_write"] == "EROFS" and out["dataset_chmod"] == "EROFS"
    assert out["remount_rc"] != 0  # no capabilities: cannot make the bind writable again
    assert out["cap_eff"] == "0000000000000000" and out["uid"] == 1000
    if os.geteuid() == 0:  # as root outside, the sandbox user still may not read host secrets
        assert out["shadow"] == "EACCES"
    assert out["dataset_files"] == ["a.txt"]
    assert set(out["root_entries"]) >= {"datasets", "workspace", "home", "usr", "tmp"}
    assert {"root", "var", "srv", "opt"}.isdisjoint(out["root_entries"])
    assert out["storage_visible"] is False
    assert not (storage / "datasets" / "ds-abc" / "3" / "new.txt").exists()


def test_the_runtime_binds_the_package_not_the_checkout(server_python, server_ids):
    rt = runtime.probe(server_python, *server_ids)
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(runtime.__file__)))
    checkout = os.path.dirname(checkout)
    assert checkout not in rt.paths  # an editable install puts the checkout on sys.path
    assert any(p.endswith("fermi_jupyter") for p in rt.paths) or all(
        "site-packages" in p or "server-venv" in p or p.startswith("/opt") for p in rt.paths
    )


@pytest.mark.parametrize(
    ("bound", "state"),
    [
        ("/", "/var/lib/fermi-jupyter/hub/jupyterhub_cookie_secret"),
        ("/var/lib", "/var/lib/fermi-jupyter"),
        ("/work/checkout", "/work/checkout/.work/local/hub/jupyterhub.sqlite"),
        ("/srv/fermi", "/srv/fermi"),
    ],
)
def test_a_bind_holding_hub_state_is_refused(bound, state):
    with pytest.raises(SandboxError, match="holds the hub's"):
        check_protected(["/usr", bound], [state])


def test_binds_beside_or_below_the_state_are_fine():
    check_protected(
        ["/usr", "/var/lib/fermi-jupyter/homes/alice", "/var/lib/fermi-jupyter/storage/volumes/v"],
        ["/var/lib/fermi-jupyter/hub", "/var/lib/fermi-jupyter/storage"],
    )


def test_a_symlinked_source_is_not_followed(storage, tmp_path):
    # a reference version points into a volume its owner controls: the owner swaps the
    # folder for a link to someone else's volume
    (storage / "volumes" / "vol-xyz" / "data").symlink_to(storage / "volumes" / "vol-other")
    m = volume_mount(
        "v",
        {"id": "vol-xyz", "name": "w", "backend": "root", "storage_path": "volumes/vol-xyz"},
        "/data",
        True,
        "/home/jovyan",
        sub_path="data",
    )
    with pytest.raises(SandboxError, match="symbolic link"):
        check_sources([m], str(storage))
    with pytest.raises(SandboxError, match="missing"):
        check_sources([m.replace(source="volumes/vol-gone")], str(storage))
