"""Pause points for tests that must act at an exact moment (a symlink swapped in right after
a check), in the real registry and its worker processes.

Inert unless ``FERMI_STORAGE_HOOKS`` names a folder. A test arms a point by creating
``<point>.arm`` there; the first process to reach the point renames it to ``<point>.reached``
(so one process takes it), writes what it is about to do into that file, and waits for the
test to create ``<point>.go`` (which it removes) before going on — for at most a minute.
Points: ``source-checked`` (the source path was checked, nothing opened yet),
``walk-listed`` (a folder's names were read, none opened), ``worker-batch`` (a worker got
a batch of names, none opened), ``restore-ready`` (a restore is about to create its files).
"""

from __future__ import annotations

import json
import os
import time

DIR = os.environ.get("FERMI_STORAGE_HOOKS") or None
WAIT = 60.0


def pause(point: str, **info: object) -> None:
    if DIR is None:
        return
    arm = os.path.join(DIR, point + ".arm")
    reached = os.path.join(DIR, point + ".reached")
    try:
        os.rename(arm, reached)
    except FileNotFoundError:
        return  # not armed, or another process took it
    with open(reached, "w") as f:
        json.dump({"pid": os.getpid(), **info}, f)
    go = os.path.join(DIR, point + ".go")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            os.unlink(go)
            return
        except FileNotFoundError:
            time.sleep(0.01)
