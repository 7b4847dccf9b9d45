"""The registry's metrics folder: made new, private and unguessable for each start; what a
killed registry left is removed, and nothing else is touched."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile

from fermi_jupyter.registry import metrics_dir


def test_a_new_private_folder_and_only_dead_registries_folders_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(metrics_dir.ENV, raising=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = tmp_path / f"{metrics_dir.PREFIX}{dead}-abc123"  # a killed registry's
    left.mkdir()
    (left / "counter_1.db").write_bytes(b"x")
    running = tmp_path / f"{metrics_dir.PREFIX}{os.getppid()}-def456"  # a live process's
    running.mkdir()
    target = tmp_path / "not-ours"
    target.mkdir()
    (target / "keep").write_text("keep")
    link = tmp_path / f"{metrics_dir.PREFIX}{dead}-link"  # a link: never followed
    link.symlink_to(target)

    metrics_dir.prepare()
    folder = os.environ[metrics_dir.ENV]
    monkeypatch.delenv(metrics_dir.ENV)
    assert os.path.dirname(folder) == str(tmp_path)
    assert os.path.basename(folder).startswith(f"{metrics_dir.PREFIX}{os.getpid()}-")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and os.listdir(folder) == []
    assert not left.exists() and running.is_dir()
    assert link.is_symlink() and (target / "keep").read_text() == "keep"


def test_an_operators_folder_is_used_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv(metrics_dir.ENV, str(tmp_path / "theirs"))
    metrics_dir.prepare()
    assert os.environ[metrics_dir.ENV] == str(tmp_path / "theirs")
