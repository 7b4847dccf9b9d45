"""Worker processes for one operation, fed batches of names with their folders' descriptors.

Why processes: the per-file work (open, read, hash, write, link, format a manifest line) is
mostly Python between short system calls, so threads run it at one core's pace under the
interpreter lock; two processes reach ``b3sum -P2``'s pace. Each worker is a fresh
interpreter (``python -m …storage.worker``), not a fork of the registry: nothing of the
registry's state, threads or database connections is copied into it, and it works only on
the descriptors it is sent.

Results come back in the order the batches were sent (the manifest is in tree order), while
at most ``WINDOW`` batches wait in each worker, so memory stays flat on any tree.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from .errors import StorageError
from .fileops import BatchError, Context, run_batch
from .walk import Folder

WORKERS = int(os.environ.get("FERMI_STORAGE_WORKERS", "0")) or max(2, os.cpu_count() or 2)
WINDOW = 2  # batches queued per worker: one being worked on, one ready behind it
REORDER = 64  # results kept waiting for an earlier, slower batch before sending pauses
SOCKET_BUFFER = 4 << 20
_SO_SNDBUFFORCE = 32


class Batch:
    """Files for one worker, as runs: (folder id, names, their manifest lines or None) —
    folder id 0 and names None for manifest lines with no file — and the folders they are
    in (held until the result is back)."""

    __slots__ = ("cost", "count", "files", "folders", "seq")

    def __init__(self, seq: int):
        self.seq = seq
        self.files: list[tuple[int, list[str] | None, list[str | None] | None]] = []
        self.folders: dict[int, Folder] = {}
        self.count = 0
        self.cost = 0


Deliver = Callable[[Batch, dict], None]


def _raise_for(result: dict) -> None:
    _err, message, reason = result["error"]
    raise StorageError(message, reason)


def _buffers(sock: socket.socket) -> int:
    """Make the socket's buffers big enough for a batch; the message size that fits."""
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < SOCKET_BUFFER:
        with contextlib.suppress(OSError):  # root may go past the system's wmem_max
            sock.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, SOCKET_BUFFER)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


class Pool:
    """``submit(batch)`` then ``drain()``; results go to ``deliver`` in order. ``tick`` runs
    at least every quarter second while waiting (progress reports, cancel checks)."""

    def __init__(
        self,
        n: int,
        config: dict,
        init_fds: list[int],
        deliver: Deliver,
        tick: Callable[[], None],
    ):
        self.deliver = deliver
        self.tick = tick
        self.procs: list[subprocess.Popen[bytes]] = []
        self.socks: list[socket.socket] = []
        self.inflight: list[deque[Batch]] = []
        self.held: list[set[int]] = []
        self.ready: dict[int, tuple[Batch, dict]] = {}
        self.next_seq = 0
        self.poller = select.poll()
        self.message_max = 1 << 20
        try:
            for _ in range(n):
                self._spawn(config, init_fds)
        except BaseException:
            self.close()
            raise

    def _spawn(self, config: dict, init_fds: list[int]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        size = min(_buffers(ours), _buffers(theirs))
        self.message_max = min(self.message_max, size // 2)
        try:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    __package__ + ".worker",
                    str(theirs.fileno()),
                    str(os.getpid()),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                cwd="/",
            )
        finally:
            theirs.close()
        self.procs.append(proc)
        self.socks.append(ours)
        self.inflight.append(deque())
        self.held.append(set())
        self.poller.register(ours.fileno(), select.POLLIN)
        socket.send_fds(ours, [marshal.dumps(("init", config))], init_fds)

    # -- sending ------------------------------------------------------------------------------
    def submit(self, batch: Batch) -> None:
        while True:
            w = min(range(len(self.socks)), key=lambda i: len(self.inflight[i]))
            if len(self.inflight[w]) < WINDOW and len(self.ready) < REORDER:
                break
            self._wait()
        ids = list(batch.folders)
        held = self.held[w]
        new, fds = [], []
        for i in ids:
            if i not in held:
                f = batch.folders[i]
                new.append((i, f.rel, f.dst >= 0))
                fds.append(f.fd)
                if f.dst >= 0:
                    fds.append(f.dst)
        msg = marshal.dumps(("batch", batch.seq, ids, new, batch.files))
        try:
            socket.send_fds(self.socks[w], [msg], fds)
        except OSError as e:
            self._died(w, e)
        self.held[w] = set(ids)
        self.inflight[w].append(batch)

    # -- receiving ----------------------------------------------------------------------------
    def _wait(self) -> None:
        events = self.poller.poll(250)
        self.tick()
        for fd, _ev in events:
            w = next(i for i, s in enumerate(self.socks) if s.fileno() == fd)
            try:
                data = self.socks[w].recv(8 << 20)
            except OSError as e:  # ECONNRESET: the worker died with data unread
                self._died(w, e)
            if not data:
                self._died(w, None)
            result = marshal.loads(data)
            batch = self.inflight[w].popleft()
            if "error" in result:
                _raise_for(result)
            self.ready[batch.seq] = (batch, result)
        while self.next_seq in self.ready:
            self.deliver(*self.ready.pop(self.next_seq))
            self.next_seq += 1

    def drain(self) -> None:
        while any(self.inflight):
            self._wait()

    def _died(self, w: int, e: OSError | None) -> NoReturn:
        proc = self.procs[w]
        try:
            code = proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        if code == -signal.SIGBUS:
            raise StorageError(
                "a file was cut short while it was being read: something is writing to this "
                "folder; try again when it is finished",
                "changed",
            )
        raise StorageError(f"a storage worker process stopped (exit status {code})", "io-error")

    def close(self) -> None:
        """End the workers: on success they have nothing left and exit when their socket
        closes; after a failure or a cancel they are killed."""
        busy = any(self.inflight)
        for sock in self.socks:
            sock.close()
        for proc in self.procs:
            if busy and proc.poll() is None:
                proc.kill()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.socks.clear()


class Inline:
    """The same interface for trees of a few hundred small files, where starting processes
    would cost more than the work: batches run on the calling thread."""

    def __init__(self, ctx: Context, deliver: Deliver, tick: Callable[[], None]):
        self.ctx = ctx
        self.deliver = deliver
        self.tick = tick

    def submit(self, batch: Batch) -> None:
        self.ctx.dirs = {i: (f.fd, f.dst, f.rel) for i, f in batch.folders.items()}
        try:
            result = run_batch(self.ctx, batch.seq, batch.files)
        except BatchError as e:
            raise StorageError(str(e), e.reason) from None
        self.deliver(batch, result)
        self.tick()

    def drain(self) -> None:
        pass

    def close(self) -> None:
        self.ctx.dirs = {}
