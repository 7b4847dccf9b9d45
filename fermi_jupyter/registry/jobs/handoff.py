"""Jobs handed from the serving processes to the process that runs them.

With several processes (``--processes N``), one more process runs every job of this registry,
at ``storage_nice``: on busy cores the kernel answers requests first and registrations take
the rest. (Run in the serving processes' own threads, a registration's bookkeeping took about
half of their CPU under steady registering and held their interpreter lock, so readers
waited.)

The job rows are the queue, as before; what crosses here is only the wake-up: the supervisor
makes a pipe before it forks, serving processes write a job's id to it (``-id`` asks to
cancel a running one at once), and the job process reads it. Eight bytes are written in one
``write`` (atomic below ``PIPE_BUF``). A full pipe (the job process away) drops the wake-up,
never the job: the job process queues every unclaimed job when it starts and every
``recover_interval``.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from .recovery import worker_name
from .runner import request_cancel

log = logging.getLogger(__name__)
_ID = struct.Struct("<q")


def wake_pipe() -> tuple[int, int]:
    """The pipe, made by the supervisor before it forks: (read end, non-blocking write end)."""
    r, w = os.pipe()
    os.set_blocking(w, False)  # a serving process never waits for the job process
    return r, w


class JobHandoff:
    """The serving processes' runner: records what the job process must do, and wakes it."""

    def __init__(self, sessions: sessionmaker[Session], wake_fd: int):
        self.sessions = sessions
        self.wake_fd = wake_fd
        self.worker = worker_name()  # this serving process, as the health check reports it
        self.stopping = False

    def submit(self, job_id: int) -> None:
        self._send(job_id)

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop, whichever process runs it; a running one stops at once."""
        request_cancel(self.sessions, job_id)
        self._send(-job_id)

    def _send(self, message: int) -> None:
        try:
            os.write(self.wake_fd, _ID.pack(message))
        except BlockingIOError:  # the job process is away: it queues the job when it is back
            log.warning("job process not listening; job %d waits for its next check", abs(message))
        except OSError as e:
            log.warning("could not wake the job process: %s", e)

    # what the app calls on every runner
    def stop(self) -> int:
        self.stopping = True
        return 0

    def shutdown(self, wait: bool = False) -> None:
        self.stopping = True


def listen(read_fd: int, submit: Callable[[int], None], cancel: Callable[[int], None]) -> None:
    """In the job process: a daemon thread that reads wake-ups and hands them to the runner."""

    def loop() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(read_fd, 64 * _ID.size)
            except InterruptedError:
                continue
            except OSError as e:
                log.error("job wake-ups stopped: %s", e)
                return
            if not chunk:
                return
            pending += chunk
            whole = len(pending) - len(pending) % _ID.size
            for (message,) in _ID.iter_unpack(pending[:whole]):
                try:
                    (submit if message > 0 else cancel)(abs(message))
                except Exception:  # the job stays queued: the next check picks it up
                    log.exception("job %d: could not hand it to the runner", abs(message))
            pending = pending[whole:]

    threading.Thread(target=loop, name="fermi-job-wakeups", daemon=True).start()
