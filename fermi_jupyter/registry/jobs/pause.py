"""Pause points for fault drills: hold a job at a named moment so a fault lands there.

Off unless ``RegistryApp.job_pause_dir`` names a folder. Then a job reaching point ``P`` while
``<folder>/arm-P`` exists writes ``<folder>/job-<id>-P`` and waits until that file is removed
(or the process is killed — which is the point). Tests and operators use it to kill the
registry, restart the database or fill the disk at an exact moment instead of hoping a timer
lands there.

Points, in the order a registration reaches them:

``copying``     the first files are stored (the copy stalls, its folder part-built)
``stored``      the storage work is finished and renamed into place; nothing recorded yet
``publishing``  inside the transaction that records the result, after its first read
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)
POINTS = ("copying", "stored", "publishing")


class PausePoints:
    def __init__(self, folder: str | os.PathLike[str] | None = None, poll: float = 0.02):
        self.folder = Path(folder) if folder else None
        self.poll = poll

    def armed(self, point: str) -> bool:
        return self.folder is not None and (self.folder / f"arm-{point}").exists()

    def at(self, point: str, job_id: int) -> None:
        """Block here while this point is armed and the job's marker file exists."""
        if not self.armed(point):
            return
        assert self.folder is not None
        marker = self.folder / f"job-{job_id}-{point}"
        marker.write_text(str(os.getpid()))
        log.warning("job %s paused at %s (remove %s to go on)", job_id, point, marker)
        while marker.exists():
            time.sleep(self.poll)
        log.warning("job %s goes on from %s", job_id, point)
