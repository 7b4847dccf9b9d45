"""Where the registry's processes keep their Prometheus metrics, so that ``/metrics``, answered
by any serving process, counts what every process did (the job process included).

prometheus_client's multiprocess mode: each process writes its samples to memory-mapped files
in one folder, and a scrape adds them up. The folder must be chosen before prometheus_client is
first imported (it picks how values are stored then), so ``python -m fermi_jupyter.registry``
calls ``prepare`` first. A registry embedded in another process (the tests) keeps the plain
in-process metrics. Imports nothing of prometheus_client.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "fermi-registry-metrics-"


def prepare() -> None:
    """Give this registry (this process and every process it starts) a folder of its own, new
    and empty (``mkdtemp``: mode 700, a name no one can guess or make first), removed when the
    registry exits; one left by a registry that was killed is removed at the next start. An
    operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used as it is."""
    if os.environ.get(ENV):
        return
    _remove_stale(Path(tempfile.gettempdir()))
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    os.environ[ENV] = folder
    me = os.getpid()

    def remove() -> None:
        if os.getpid() == me:  # not in a forked child that happens to exit normally
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def _remove_stale(base: Path) -> None:
    """Folders of registries that no longer run: ours (same owner), real folders (not links)."""
    for old in base.glob(PREFIX + "*-*"):
        pid = old.name[len(PREFIX) :].split("-", 1)[0]
        try:
            st = old.lstat()
        except OSError:
            continue
        mine = stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
        if mine and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
