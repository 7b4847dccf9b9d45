"""The local sandbox for real: bubblewrap with a mount plan. Inside it, the volume is writable,
the dataset is not (EROFS), remounting it writable fails, and the storage root is invisible."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from fermi_jupyter.spawner.plan import dataset_mount, volume_mount
from fermi_jupyter.spawner.sandbox import bwrap_args

pytestmark = pytest.mark.skipif(
    not shutil.which("bwrap"), reason="scripts/setup.sh installs bubblewrap"
)

PROBE = textwrap.dedent("""
    import errno, json, os, subprocess, sys
    out = {}
    with open("/workspace/result.txt", "w") as f:
        f.write("written from the sandbox")
    out["volume_write"] = "ok"
    try:
        open("/datasets/imagenet/new.txt", "w")
        out["dataset_write"] = "ok"
    except OSError as e:
        out["dataset_write"] = errno.errorcode[e.errno]
    try:
        os.chmod("/datasets/imagenet/a.txt", 0o666)
        out["dataset_chmod"] = "ok"
    except OSError as e:
        out["dataset_chmod"] = errno.errorcode[e.errno]
    r = subprocess.run(["mount", "-o", "remount,rw,bind", "/datasets/imagenet"],
                       capture_output=True, text=True)
    out["remount_rc"] = r.returncode
    out["dataset_files"] = sorted(os.listdir("/datasets/imagenet"))
    out["root_entries"] = sorted(os.listdir("/"))
    storage = sys.argv[1]
    out["storage_visible"] = os.path.exists(storage) or os.path.exists(storage + "/volumes")
    out["other_volume_visible"] = os.path.exists(storage + "/volumes/vol-other/secret.txt")
    out["uid"] = os.getuid()
    out["cap_eff"] = [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1]
    print(json.dumps(out))
""")


def test_sandbox_enforces_the_plan(tmp_path):
    root = tmp_path / "storage"
    version = root / "datasets" / "ds-abc" / "3"
    version.mkdir(parents=True)
    (version / "a.txt").write_text("dataset file")
    (root / "volumes" / "vol-xyz").mkdir(parents=True)
    (root / "volumes" / "vol-other").mkdir(parents=True)
    (root / "volumes" / "vol-other" / "secret.txt").write_text("someone else's")
    home = tmp_path / "home"
    home.mkdir()
    plan = [
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
    args = bwrap_args(plan, root, "/home/jovyan", home, extra_ro=[str(tmp_path / "probe")])
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.py").write_text(PROBE)
    r = subprocess.run(
        [*args, sys.executable, str(tmp_path / "probe" / "probe.py"), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    import json

    out = json.loads(r.stdout)
    assert out["volume_write"] == "ok"
    assert (root / "volumes" / "vol-xyz" / "result.txt").read_text() == "written from the sandbox"
    assert out["dataset_write"] == "EROFS" and out["dataset_chmod"] == "EROFS"
    assert out["remount_rc"] != 0  # no capabilities: cannot make the bind writable again
    assert out["cap_eff"] == "0000000000000000" and out["uid"] == 1000
    assert out["dataset_files"] == ["a.txt"]
    assert "datasets" in out["root_entries"] and "workspace" in out["root_entries"]
    assert out["storage_visible"] is False and out["other_volume_visible"] is False
    assert (version / "a.txt").read_text() == "dataset file"
    assert not (version / "new.txt").exists()
