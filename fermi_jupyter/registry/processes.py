"""Several serving processes on one port: a small supervisor that forks, watches and stops them.

Each serving child binds its own socket with SO_REUSEPORT (the kernel spreads connections over
them), builds its own engine, pools and event bus, and serves; one more child runs the jobs
(see jobs/handoff.py) unless the registry is told otherwise. The parent holds no
database connection and no thread; it forwards SIGTERM/SIGINT, and replaces a child that
dies (a crash or kill -9) unless it is stopping.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable


def _die_with(parent: int) -> None:
    """Ask Linux for SIGTERM when the supervisor dies (even by SIGKILL): no orphan may keep
    serving the port after the hub has started a new registry."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the supervisor's SIGTERM is all there is
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(0)


def name_process(name: str) -> None:
    """Set the process's name as ``ps``, ``top`` and ``/proc/PID/comm`` show it (at most 15
    bytes), so the job process can be told from the serving ones."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):  # not Linux: the name stays
        return


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Supervisor:
    def __init__(
        self,
        n: int,
        child: Callable[[int], None],
        *,
        log: logging.Logger | None = None,
        names: Callable[[int], str] | None = None,
        reaped: Callable[[int], None] | None = None,
    ) -> None:
        self.n = n
        self.child = child
        self.name = names or (lambda index: f"registry process {index + 1}")
        self.reaped = reaped or (lambda pid: None)
        self.log = log or logging.getLogger(__name__)
        self.children: dict[int, int] = {}  # pid -> index
        self.stopping = False
        self._started: dict[int, float] = {}

    def _spawn(self, index: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: default signal handling, then serve until told to stop
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            _die_with(parent)
            code = 0
            try:
                self.child(index)
            except BaseException:
                self.log.exception("%s failed", self.name(index))
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = index
        self._started[index] = time.monotonic()

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for i in range(self.n):
            self._spawn(i)
        self.log.info("fermi registry: %s", ", ".join(self.name(i) for i in range(self.n)))
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            try:
                self.reaped(pid)
            except Exception:  # bookkeeping only: never stops the supervisor
                self.log.exception("after process %d ended", pid)
            if index is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            self.log.error("%s (pid %d) ended (%s); starting another", self.name(index), pid, code)
            if time.monotonic() - self._started.get(index, 0) < 1.0:
                time.sleep(1.0)  # one that dies at start-up must not spin
            if not self.stopping:
                self._spawn(index)
