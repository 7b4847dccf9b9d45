"""An IPython extension for kernels of local servers with a memory limit: when the server's
cgroup has killed a process for running out of memory since the last cell, the next cell
starts with a message saying so — what happened, the limit, what to do — instead of a kernel
that silently lost its variables.

The server's group counter (``oom_kill N``) is bound read-only at ``$FERMI_MEMORY_EVENTS``;
the count already seen is kept in ``/tmp/fermi-jupyter/oom-seen`` (the sandbox's own /tmp).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from ...i18n import msg

SEEN = Path("/tmp/fermi-jupyter/oom-seen")


def oom_kills(path: str | None = None) -> int:
    path = path or os.environ.get("FERMI_MEMORY_EVENTS", "")
    try:
        found = re.search(r"^oom_kill (\d+)$", Path(path).read_text(), re.M)
    except OSError:
        return 0
    return int(found.group(1)) if found else 0


def _seen() -> int:
    try:
        return int(SEEN.read_text())
    except (OSError, ValueError):
        return 0


def _remember(n: int) -> None:
    SEEN.parent.mkdir(parents=True, exist_ok=True)
    SEEN.write_text(str(n))


def remember_baseline() -> None:
    """At server start: kills before this server (none, for a new group) are not news."""
    _remember(oom_kills())


def notice() -> str | None:
    """The message for kills not yet reported, or None; marks them reported."""
    now, seen = oom_kills(), _seen()
    if now <= seen:
        return None
    _remember(now)
    limit = os.environ.get("FERMI_MEMORY_LIMIT", "")
    size = f"{int(limit) / 2**20:,.0f} MiB" if limit.isdigit() else "?"
    text = msg(
        "This server ran out of memory (its profile allows {size}): a process was stopped, "
        "most likely this notebook's previous kernel, and its variables are gone. Load less "
        "data at once, or start the server with a larger profile.",
        size=size,
    )
    return text.translate(os.environ.get("FERMI_LANG"))


def load_ipython_extension(ipython: Any) -> None:
    def check(*_: Any) -> None:
        text = notice()
        if text:
            print(f"⚠ {text}", file=sys.stderr, flush=True)

    ipython.events.register("pre_run_cell", check)
