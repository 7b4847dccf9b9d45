"""Writing a snapshot's files to disk while they are copied, not all after.

A snapshot ends with a ``syncfs``: the version exists only once its files are on disk. Left
to the end, that flush writes everything at once, on one core, after the copying is over. A
helper thread flushes the filesystem every ``EVERY`` seconds while the copy runs instead, so
the kernel's writeback overlaps the copying and the final flush finds little left to do
(docs/benchmarks.md, "Flushing while copying"). Snapshots running at once on one filesystem
share one such thread: a flush writes what all of them wrote.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from .fsafe import syncfs

# seconds between flushes while a snapshot copies; 0 = only the final one (set by
# ``RegistryApp.storage_flush_interval``)
EVERY = 0.2


class _Flusher:
    """One filesystem's flushing thread, while any snapshot on it copies."""

    def __init__(self, fd: int, every: float):
        self.users = 0
        self.stop = threading.Event()
        own = os.dup(fd)  # the thread's own: never one a caller closes meanwhile

        def loop() -> None:
            try:
                while not self.stop.wait(every):
                    with contextlib.suppress(OSError):  # the final flush reports failures
                        syncfs(own)
            finally:
                os.close(own)

        threading.Thread(target=loop, name="fermi-storage-flush", daemon=True).start()


_lock = threading.Lock()
_flushers: dict[int, _Flusher] = {}  # by device


@contextlib.contextmanager
def flushing(fd: int, every: float | None = None) -> Iterator[None]:
    """Flush the filesystem holding ``fd`` every ``every`` seconds (default ``EVERY``)
    while the block runs. The thread is not waited for: a flush in progress never delays a
    cancel."""
    every = EVERY if every is None else every
    if every <= 0:
        yield
        return
    dev = os.fstat(fd).st_dev
    with _lock:
        flusher = _flushers.get(dev)
        if flusher is None:
            flusher = _flushers[dev] = _Flusher(fd, every)
        flusher.users += 1
    try:
        yield
    finally:
        with _lock:
            flusher.users -= 1
            if flusher.users == 0:
                flusher.stop.set()
                del _flushers[dev]
