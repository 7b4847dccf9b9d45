"""Where the storage figures are measured: a new filesystem per tree (``--fs fresh``) that holds
a copy of the tree and is gone afterwards, or the work folder, with the tree moved back."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bench import freshfs


def _tree(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "x.bin").write_bytes(os.urandom(10_000))
    (root / "empty").write_bytes(b"")
    return root


def _listing(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def mode():
    before = freshfs.MODE
    yield
    freshfs.MODE = before


def test_fresh_is_a_new_filesystem_with_a_copy_and_leaves_nothing(tmp_path, mode):
    assert freshfs.unavailable() is None, freshfs.unavailable()  # CI runs as root, like here
    assert freshfs.choose("fresh", tmp_path / "bench").startswith("each tree on a new ext4")
    src = _tree(tmp_path / "tree")
    before = _listing(src)
    with freshfs.place(tmp_path / "bench", "shape", {"src": src}, copies=3) as root:
        assert os.path.ismount(root)
        assert os.stat(root).st_dev != os.stat(src).st_dev
        assert _listing(root / "src") == before
        mounts = Path("/proc/mounts").read_text()
        assert str(root) in mounts and "discard" not in mounts.split(str(root), 1)[1].split("\n")[0]
        # room for three copies: a second and third copy fit
        subprocess.run(["cp", "-a", str(root / "src"), str(root / "copy2")], check=True)
        subprocess.run(["cp", "-a", str(root / "src"), str(root / "copy3")], check=True)
    assert not os.path.ismount(root) and not root.exists()
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == []
    assert (
        str(tmp_path)
        not in subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    )
    assert _listing(src) == before  # the cached tree is untouched


def test_a_killed_runs_leftovers_are_released(tmp_path, mode):
    freshfs.MODE = "fresh"
    src = _tree(tmp_path / "tree")
    # a filesystem left mounted, attached and on disk, as a run killed in the middle leaves it
    with (
        freshfs.filesystem(tmp_path / "bench", "shape", 32 << 20, 256),
        freshfs.place(tmp_path / "bench", "shape", {"src": src}, copies=2) as root,
    ):
        assert _listing(root / "src") == _listing(src)
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == []


def test_work_moves_the_tree_in_and_back(tmp_path, mode):
    assert freshfs.choose("work", tmp_path / "bench") == "on the work folder's filesystem"
    src = _tree(tmp_path / "tree")
    before = _listing(src)
    with freshfs.place(tmp_path / "bench", "shape", {"src": src}, copies=3) as root:
        assert not src.exists() and _listing(root / "src") == before
        assert os.stat(root).st_dev == os.stat(tmp_path).st_dev
    assert _listing(src) == before
