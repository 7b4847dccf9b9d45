"""The first thing a local server runs, inside its sandbox, as the user:

1. links in the home for the mounts outside it (``~/datasets`` → ``/datasets``,
   ``~/workspace`` → ``/workspace``), so Lab — which opens in the persistent home — shows the
   mounts one click away; links it made earlier for mounts that are gone are removed;
2. a Python kernel spec that loads the out-of-memory notice (``oom.py``) when the server has a
   memory limit;
3. server settings for the sandbox (``server_config``): terminals open a non-login bash (a
   login shell's /etc/profile would reset PATH and lose the ``fermi`` CLI of the runtime),
   and Lab does not ask to fetch Jupyter's news (the sandbox has no business on the internet);
4. then it becomes the server (``exec``).

``python -m fermi_jupyter.spawner.inside.boot -- python -m jupyterhub.singleuser …``
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from ...domain.mounts import MountFormatError, decode

RUNTIME = Path("/tmp/fermi-jupyter")


def top_folders(mount_paths: list[str], home: str) -> list[str]:
    """First components of mount paths outside the home: ``/datasets/x`` → ``datasets``."""
    home = home.rstrip("/")
    out = []
    for path in mount_paths:
        if path == home or path.startswith(home + "/"):
            continue  # already in the home, where Lab opens
        top = path.strip("/").split("/")[0]
        if top and top not in out:
            out.append(top)
    return out


def link_mounts(home: str, mount_paths: list[str]) -> list[str]:
    """Make ``home/<top>`` → ``/<top>`` for each top folder; never touch a real file or folder
    of the user's, and remove only links that look exactly like ours (``name`` → ``/name``)."""
    wanted = top_folders(mount_paths, home)
    made = []
    for entry in os.scandir(home):
        if entry.is_symlink() and entry.name not in wanted:
            try:
                if os.readlink(entry.path) == "/" + entry.name:
                    os.unlink(entry.path)
            except OSError:
                pass
    for top in wanted:
        link = os.path.join(home, top)
        if os.path.lexists(link):
            continue  # the user's own file or folder of that name wins
        try:
            os.symlink("/" + top, link)
            made.append(top)
        except OSError:
            pass
    return made


def kernel_spec(python: str, folder: Path) -> Path:
    """A ``python3`` kernel spec that loads the out-of-memory notice; returns the data dir
    to put first on ``JUPYTER_PATH``."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv.append("--InteractiveShellApp.extra_extensions=fermi_jupyter.spawner.inside.oom")
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "metadata": {"debugger": True},
            }
        )
    )
    try:
        import ipykernel

        resources = Path(ipykernel.__file__).parent / "resources"
        for logo in resources.glob("logo-*"):
            shutil.copyfile(logo, spec / logo.name)
    except (ImportError, OSError):
        pass
    return folder


def server_config(folder: Path) -> Path:
    """A Jupyter config folder (to put first on ``JUPYTER_CONFIG_PATH``) and Lab's settings
    overrides for a sandboxed server."""
    lab = folder / "lab-settings"
    lab.mkdir(parents=True, exist_ok=True)
    notification = {"fetchNews": "false", "checkForUpdates": False}
    overrides = {"@jupyterlab/apputils-extension:notification": notification}
    (lab / "overrides.json").write_text(json.dumps(overrides))
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    settings = {
        "ServerApp": {"terminado_settings": {"shell_command": ["/bin/bash"]}},
        "LabApp": {"app_settings_dir": str(lab)},
    }
    (config / "jupyter_server_config.json").write_text(json.dumps(settings))
    return config


def main(argv: list[str]) -> None:
    if "--" not in argv:
        raise SystemExit("usage: python -m fermi_jupyter.spawner.inside.boot -- COMMAND …")
    command = argv[argv.index("--") + 1 :]
    home = os.environ.get("HOME", os.getcwd())
    try:
        mounts = decode(os.environ.get("FERMI_MOUNTS", ""))
    except MountFormatError as e:
        print(f"fermi: FERMI_MOUNTS unreadable ({e}); no links made", file=sys.stderr)
        mounts = []
    link_mounts(home, [m.mount_path for m in mounts])
    config = server_config(RUNTIME)
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(config), os.environ.get("JUPYTER_CONFIG_PATH", "")) if p
    )
    if os.environ.get("FERMI_MEMORY_EVENTS"):
        data = kernel_spec(sys.executable, RUNTIME / "share")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(data), os.environ.get("JUPYTER_PATH", "")) if p
        )
        from .oom import remember_baseline

        remember_baseline()
    if command[:2] == [sys.executable, "-m"] and len(command) > 2:
        # the server runs in this interpreter: one Python start-up instead of two
        import runpy

        sys.argv = [command[2], *command[3:]]
        runpy.run_module(command[2], run_name="__main__", alter_sys=True)
        return
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
