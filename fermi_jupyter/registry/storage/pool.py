"""Worker processes, fed batches of names with their folders' descriptors.

Why processes: the per-file work (open, read, hash, write, link, format a manifest line) is
mostly Python between short system calls, so threads run it at one core's pace under the
interpreter lock; two processes reach ``b3sum -P2``'s pace. Each worker is a fresh
interpreter (``python -m …storage.worker``), not a fork of the registry: nothing of the
registry's state, threads or database connections is copied into it, and it works only on
the descriptors it is sent.

Workers outlive one operation: an operation checks out idle ones (starting more if needed),
sends them its set-up, and gives them back clean when it succeeds (a failed or cancelled
operation kills its workers). They are started by one long-lived thread of the registry,
because ``PR_SET_PDEATHSIG`` (see worker.py) fires when the *thread* that started a process
ends: so they die with the registry, and only then. Idle workers go after ``IDLE_FOR``.

Results come back in the order the batches were sent (the manifest is in tree order), while
at most ``WINDOW`` batches wait in each worker, so memory stays flat on any tree.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import NoReturn

from .batch import BatchError, Context
from .errors import StorageError
from .fileops import run_batch
from .walk import Folder

WORKERS = int(os.environ.get("FERMI_STORAGE_WORKERS", "0")) or max(2, os.cpu_count() or 2)
WINDOW = 2  # batches queued per worker: one being worked on, one ready behind it
REORDER = 64  # results kept waiting for an earlier, slower batch before sending pauses
SOCKET_BUFFER = 4 << 20
IDLE_FOR = 300.0  # seconds an idle worker is kept for the next operation
MAX_IDLE = 4
# niceness of worker processes: hashing and copying yield the cores to the registry's serving
# processes (readers' latency while others register); set by ``RegistryApp.storage_nice``
NICE = 0
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


def _buffers(sock: socket.socket) -> int:
    """Make the socket's buffers big enough for a batch; the message size that fits."""
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < SOCKET_BUFFER:
        with contextlib.suppress(OSError):  # root may go past the system's wmem_max
            sock.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, SOCKET_BUFFER)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


class Worker:
    """One worker process and the registry's end of its socket."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket):
        self.proc = proc
        self.sock = sock
        self.held: set[int] = set()  # folder ids whose descriptors the worker holds
        self.idle_since = time.monotonic()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


def _start() -> Worker:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    _buffers(ours)
    _buffers(theirs)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", __package__ + ".worker", str(theirs.fileno()), str(os.getpid())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            cwd="/",
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    if NICE > 0:  # set from here as soon as it exists (a child would first import everything)
        with contextlib.suppress(OSError):  # it may have died already
            os.setpriority(os.PRIO_PROCESS, proc.pid, NICE)
    return Worker(proc, ours)


def _kill_started(f: Future[Worker]) -> None:
    if not f.cancelled() and f.exception() is None:
        f.result().kill()


class _Workers:
    """The process's workers: a thread that starts them (and lives as long as the process),
    and the idle ones waiting for the next operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._requests: queue.Queue[Future[Worker]] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _starter(self) -> None:
        while True:
            try:
                fut = self._requests.get(timeout=IDLE_FOR / 4)
            except queue.Empty:
                self._expire()
                continue
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(_start())
                except BaseException as e:
                    fut.set_exception(e)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [w for w in self._idle if now - w.idle_since > IDLE_FOR]
            self._idle = [w for w in self._idle if w not in old]
        for w in old:
            w.kill()

    def checkout(self, n: int, tick: Callable[[], None] | None = None) -> list[Worker]:
        """``n`` workers: idle ones, and new ones started meanwhile (``tick`` runs while
        waiting for them, and may raise to give up: those started later are ended)."""
        got: list[Worker] = []
        with self._lock:
            while self._idle and len(got) < n:
                w = self._idle.pop()
                if w.alive():
                    got.append(w)
                else:
                    w.kill()
            if len(got) < n and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._starter, name="fermi-storage-workers", daemon=True
                )
                self._thread.start()
        futures = []
        for _ in range(n - len(got)):
            fut: Future[Worker] = Future()
            self._requests.put(fut)
            futures.append(fut)
        try:
            while not all(f.done() for f in futures):
                wait(futures, timeout=0.25)
                if tick is not None:
                    tick()
            got += [f.result() for f in futures]
        except BaseException:
            for w in got:
                w.kill()
            for f in futures:  # started after we gave up: end them when they are
                f.add_done_callback(_kill_started)
            raise
        return got

    def checkin(self, workers: list[Worker]) -> None:
        now = time.monotonic()
        with self._lock:
            for w in workers:
                w.held = set()
                w.idle_since = now
                if w.alive() and len(self._idle) < MAX_IDLE:
                    self._idle.append(w)
                else:
                    w.kill()

    def shutdown(self) -> None:
        """End every idle worker (busy ones end with their operation)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.kill()


WORKER_SET = _Workers()
shutdown = WORKER_SET.shutdown


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
        self.workers = WORKER_SET.checkout(n, tick)
        self.inflight: list[deque[Batch]] = [deque() for _ in self.workers]
        self.ready: dict[int, tuple[Batch, dict]] = {}
        self.next_seq = 0
        self.poller = select.poll()
        self._by_fd = {w.sock.fileno(): i for i, w in enumerate(self.workers)}
        self._failed = False
        try:
            for i, w in enumerate(self.workers):
                self.poller.register(w.sock.fileno(), select.POLLIN)
                self._send(i, ("init", config), init_fds)
        except BaseException:
            self._failed = True
            self.close()
            raise

    def _send(self, w: int, message: tuple, fds: list[int]) -> None:
        try:
            socket.send_fds(self.workers[w].sock, [marshal.dumps(message)], fds)
        except OSError as e:
            self._died(w, e)

    # -- sending ------------------------------------------------------------------------------
    def submit(self, batch: Batch) -> None:
        while True:
            w = min(range(len(self.workers)), key=lambda i: len(self.inflight[i]))
            if len(self.inflight[w]) < WINDOW and len(self.ready) < REORDER:
                break
            self._wait()
        worker = self.workers[w]
        ids = list(batch.folders)
        new, fds = [], []
        for i in ids:
            if i not in worker.held:
                f = batch.folders[i]
                new.append((i, f.rel, f.dst >= 0))
                fds.append(f.fd)
                if f.dst >= 0:
                    fds.append(f.dst)
        self._send(w, ("batch", batch.seq, ids, new, batch.files), fds)
        worker.held = set(ids)
        self.inflight[w].append(batch)

    # -- receiving ----------------------------------------------------------------------------
    def _recv(self, w: int) -> dict:
        try:
            data = self.workers[w].sock.recv(8 << 20)
        except OSError as e:  # ECONNRESET: the worker died with data unread
            self._died(w, e)
        if not data:
            self._died(w, None)
        return marshal.loads(data)

    def _wait(self) -> None:
        events = self.poller.poll(250)
        self.tick()
        for fd, _ev in events:
            w = self._by_fd[fd]
            result = self._recv(w)
            batch = self.inflight[w].popleft()
            if "error" in result:
                _err, message, reason = result["error"]
                raise StorageError(message, reason)
            self.ready[batch.seq] = (batch, result)
        while self.next_seq in self.ready:
            self.deliver(*self.ready.pop(self.next_seq))
            self.next_seq += 1

    def drain(self) -> None:
        try:
            while any(self.inflight):
                self._wait()
        except BaseException:
            self._failed = True
            raise

    def _died(self, w: int, e: OSError | None) -> NoReturn:
        self._failed = True
        proc = self.workers[w].proc
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
        """Give the workers back clean after a success (they close everything of this
        operation and say so); kill them after a failure or a cancel."""
        if self._failed or any(self.inflight):
            for w in self.workers:
                w.kill()
            return
        clean = []
        for i, w in enumerate(self.workers):
            try:
                socket.send_fds(w.sock, [marshal.dumps(("end",))], [])
                answered, _, _ = select.select([w.sock], [], [], 5.0)
                if answered and self._recv(i).get("ended"):
                    clean.append(w)
                    continue
            except (OSError, StorageError):
                pass
            w.kill()
        WORKER_SET.checkin(clean)


class Inline:
    """The same interface for trees of a few hundred small files, where handing them to
    other processes would cost more than the work: batches run on the calling thread."""

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
