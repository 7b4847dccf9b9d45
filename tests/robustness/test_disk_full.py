"""A full disk: a real 64 MB tmpfs holds the store (and, for the registry, its SQLite
database). A snapshot that runs out of space fails with a clear message and gives back
everything it took; the next small one succeeds; the database is intact; a registration
that cannot fit is refused before it starts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fermi_jupyter.registry.storage import StorageError, StorageLayout, snapshot, sweep

from ..support.hub import Hub
from ..support.storage import leftovers, settled
from ..support.trees import make_tree, wait_version

SIZE = 64 << 20


@pytest.fixture
def tmpfs():
    d = Path(tempfile.mkdtemp(prefix="fermi-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", d], check=True)
    try:
        yield d
    finally:
        _unmount(d)


def _unmount(d: Path) -> None:
    # a registry the hub stopped may take a moment to let go of its files
    deadline = time.monotonic() + 30
    while subprocess.run(["umount", d], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            subprocess.run(["umount", "--lazy", d], check=True)
            break
        time.sleep(0.25)
    d.rmdir()


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_snapshot_on_a_full_disk_gives_everything_back(tmpfs, tmp_path):
    layout = StorageLayout(tmpfs / "root")
    layout.ensure()
    free_before = _free(tmpfs)
    src = tmp_path / "big"
    make_tree(src, 400, 256 << 10, dirs=8)  # 100 MB of distinct content: cannot fit
    with pytest.raises(StorageError) as e:
        snapshot(layout, src, "ds-a", 1, workers=2)
    assert e.value.reason == "no-space", e.value
    assert "space" in str(e.value) and str(tmp_path) not in str(e.value)
    assert leftovers(settled(layout)) == [] and _files(layout.objects_dir) == []
    assert not layout.partial_dir("ds-a", 1).exists()
    assert _free(tmpfs) >= free_before - (1 << 20)
    small = tmp_path / "small"
    make_tree(small, 10, 100 << 10)
    r = snapshot(layout, small, "ds-b", 1)
    assert r.files == 10 and r.new_bytes == 10 * (100 << 10)
    assert sweep(layout, min_age=0).bytes == 0  # nothing was left for the sweep either


STORAGE_ON = """
registry["command"] = [a for a in registry["command"] if not a.startswith("--storage-root=")]
registry["command"].append("--storage-root={root}")
"""


def test_registry_on_a_full_disk(tmpfs, tmp_path):
    """The real registry process, its store and its SQLite database on the small tmpfs."""
    root = tmpfs / "storage"
    db = tmpfs / "registry.sqlite"
    hub = Hub(
        home=tmp_path / "hub",
        db_url=f"sqlite:///{db}",
        second_registry=False,
        extra_config=STORAGE_ON.format(root=root),
    )
    try:
        hub.start()
        token = hub.create_user("erin")
        with hub.client(token) as c:
            vol = c.post("/volumes", json={"name": "full", "capacity": "1Gi"}).json()
            ds = c.post("/datasets", json={"name": "full"}).json()
            src = root / "volumes" / vol["id"] / "data"
            make_tree(src, 160, 256 << 10, dirs=4)  # 40 MB on the 64 MB disk: no room for a copy
            free_before = _free(tmpfs)
            body = {"volume_id": vol["id"], "path": "data"}
            # refused before it starts, with a reason the sidebar can show
            r = c.post(f"/datasets/{ds['id']}/versions", json=body)
            assert r.status_code == 409, r.text
            assert r.json()["reason"] == "insufficient-space"
            assert "free" in r.json()["message"]
            # tried anyway: it fails with a clear message and gives the space back
            anyway = {**body, "ignore_space_warning": True}
            r = c.post(f"/datasets/{ds['id']}/versions", json=anyway)
            assert r.status_code == 202, r.text
            v = wait_version(c, ds["id"], r.json()["number"], timeout=120)
            assert v["status"] == "failed", v
            print("failed as:", v["error"])
            assert "space" in v["error"] or "full" in v["error"], v["error"]
            settled(StorageLayout(root))  # (the rest of the give-back runs in the background)
            assert _files(root / "objects") == []
            assert _free(tmpfs) >= free_before - (2 << 20)
            # the next, small registration succeeds
            make_tree(root / "volumes" / vol["id"] / "small", 5, 100 << 10)
            r = c.post(f"/datasets/{ds['id']}/versions", json={**body, "path": "small"})
            assert r.status_code == 202, r.text
            v = wait_version(c, ds["id"], r.json()["number"], timeout=60)
            assert v["status"] == "ready" and v["files"] == 5, v
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
        # and the gc command finds nothing more to give back
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "fermi_jupyter.registry",
                "gc",
                f"--storage-root={root}",
                f"--db-url=sqlite:///{db}",
                "--min-age=0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "freed 0 objects (0 B)" in out.stdout, out.stdout
    finally:
        hub.stop()
