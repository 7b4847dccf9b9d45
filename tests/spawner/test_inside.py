"""What runs inside a local server's sandbox: links in the home to the mounts outside it
(never over the user's own files), the kernel spec that loads the out-of-memory notice, and
the notice itself in a real IPython shell."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from fermi_jupyter.spawner.inside import boot, oom


def test_links_to_mounts_outside_the_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "workspace").mkdir()  # the user's own folder of that name: left alone
    (home / "old").symlink_to("/old")  # a link we made for a mount that is gone
    (home / "mine").symlink_to("/somewhere/else")  # the user's own link: left alone
    paths = ["/datasets/imagenet", "/datasets/coco", "/workspace", "/data/x", f"{home}/inside"]
    made = boot.link_mounts(str(home), paths)
    assert made == ["datasets", "data"]
    assert os.readlink(home / "datasets") == "/datasets" and os.readlink(home / "data") == "/data"
    assert (home / "workspace").is_dir() and not (home / "workspace").is_symlink()
    assert not os.path.lexists(home / "old")
    assert os.readlink(home / "mine") == "/somewhere/else"
    assert boot.link_mounts(str(home), paths) == []  # again: nothing to do


def test_the_kernel_spec_loads_the_notice(tmp_path):
    data = boot.kernel_spec("/opt/py/bin/python", tmp_path)
    spec = json.loads((data / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][:5] == [
        "/opt/py/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ]
    assert "--InteractiveShellApp.extra_extensions=fermi_jupyter.spawner.inside.oom" in spec["argv"]
    assert (data / "kernels" / "python3" / "logo-64x64.png").exists()


@pytest.fixture
def shell(tmp_path, monkeypatch):
    events = tmp_path / "memory.oom_control"
    events.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    monkeypatch.setenv("FERMI_MEMORY_EVENTS", str(events))
    monkeypatch.setenv("FERMI_MEMORY_LIMIT", str(256 * 2**20))
    monkeypatch.setattr(oom, "SEEN", tmp_path / "seen")
    oom.remember_baseline()
    ip = InteractiveShell.instance()
    oom.load_ipython_extension(ip)
    yield ip, events
    InteractiveShell.clear_instance()


def test_out_of_memory_is_said_in_the_next_cell(shell, capsys, monkeypatch):
    ip, events = shell
    ip.run_cell("x = 1")
    assert "out of memory" not in capsys.readouterr().err
    events.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")  # the kernel counts a kill
    ip.run_cell("x = 2")
    err = capsys.readouterr().err
    assert "This server ran out of memory (its profile allows 256 MiB)" in err
    ip.run_cell("x = 3")
    assert "out of memory" not in capsys.readouterr().err  # said once
    monkeypatch.setenv("FERMI_LANG", "zh_CN")
    events.write_text("oom_kill 2\n")
    ip.run_cell("x = 4")
    assert "此服务器内存不足（其规格上限为 256 MiB）" in capsys.readouterr().err  # noqa: RUF001


def test_server_config_keeps_path_in_terminals_and_asks_no_news(tmp_path):
    """A login shell's /etc/profile would reset PATH (no `fermi` CLI in terminals), and a
    sandbox has no business fetching Jupyter's news: both settled before the server starts."""
    config = boot.server_config(tmp_path)
    settings = json.loads((config / "jupyter_server_config.json").read_text())
    assert settings["ServerApp"]["terminado_settings"]["shell_command"] == ["/bin/bash"]
    lab = Path(settings["LabApp"]["app_settings_dir"])
    overrides = json.loads((lab / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
