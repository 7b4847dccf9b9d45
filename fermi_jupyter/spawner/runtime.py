"""The Python that runs users' servers, and the folders a sandbox needs to run it.

Only the interpreter's prefix, the virtualenv's prefix and the folder of the installed
``fermi_jupyter`` package are bound — never the checkout or anything else on ``sys.path`` (an
editable install puts the whole checkout there). The runtime is probed once per hub, *as the
server's uid*, so a runtime that uid cannot read (a pyenv Python under ``/root``) is reported
at the first start with what to do, instead of as a server that dies.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from ..i18n import msg
from .sandbox import SYSTEM, SandboxError

# finds (without importing: that takes seconds) what a server needs, as the servers' user
PROBE = (
    "import json, os, sys, importlib.util as u, fermi_jupyter\n"
    "missing = [m for m in ('jupyterhub.singleuser', 'jupyterlab', 'ipykernel')"
    " if u.find_spec(m) is None]\n"
    "if missing: sys.exit('missing: ' + ', '.join(missing))\n"
    "print(json.dumps({'prefix': sys.prefix, 'base_prefix': sys.base_prefix,"
    " 'executable': sys.executable, 'package': os.path.dirname(fermi_jupyter.__file__)}))"
)


@dataclass(frozen=True)
class Runtime:
    python: str
    paths: tuple[str, ...]  # host folders bound read-only at the same place
    bin: str  # the runtime's bin folder, first on PATH inside the sandbox


def _outside_system(path: str) -> bool:
    return not any(path == s or path.startswith(s + "/") for s in SYSTEM)


def _covered(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f + "/") for f in folders)


_cache: dict[tuple[str, int], Runtime] = {}


def probe(python: str, uid: int | None = None, gid: int | None = None) -> Runtime:
    """What ``python`` needs bound, checked by running it as the server's uid."""
    key = (python, -1 if uid is None else uid)
    as_user = (
        {}
        if uid is None or uid == os.geteuid()
        else {"user": uid, "group": gid, "extra_groups": []}
    )
    if key in _cache:
        return _cache[key]
    try:
        out = subprocess.run(
            [python, "-I", "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            **as_user,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SandboxError(_unusable(python, str(e))) from None
    if out.returncode != 0:
        raise SandboxError(_unusable(python, out.stderr.strip().splitlines()[-1:] or ""))
    info = json.loads(out.stdout)
    folders: list[str] = []
    for key_ in ("base_prefix", "prefix", "package"):
        path = os.path.realpath(info[key_])
        if _outside_system(path) and not _covered(path, folders):
            folders = [f for f in folders if not _covered(f, [path])] + [path]
    runtime = Runtime(python, tuple(sorted(folders)), os.path.join(info["prefix"], "bin"))
    _cache[key] = runtime
    return runtime


def _unusable(python: str, detail: object) -> str:
    return msg(
        "the server runtime {python} cannot be used by the servers' user ({detail}); build one "
        "it can read with scripts/setup.sh, or set LocalFermiSpawner.server_python",
        python=python,
        detail=str(detail)[:300],
    )
