"""A storage worker process: ``python -m fermi_jupyter.registry.storage.worker SOCKET PARENT``.

Started by :mod:`.pool` and used for one operation after another. It receives batches of
file names together with the descriptors of their folders (``SCM_RIGHTS`` over a
``SOCK_SEQPACKET`` socket), so it never resolves a path of the user's tree itself, does the
per-file work of :mod:`.fileops`, and answers with the batch's manifest lines. It dies with
the registry: ``PR_SET_PDEATHSIG`` sends it SIGKILL when the thread that started it ends,
and it checks at start that its parent is still the one that started it.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import signal
import socket
import sys

from . import hooks
from .batch import BatchError, Context, context_from
from .errors import readable
from .fileops import run_batch

MAX_MESSAGE = 8 << 20
MAX_FDS = 253  # SCM_MAX_FD
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above: nobody to work for
        os._exit(1)


def _more_descriptors() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def serve(sock: socket.socket) -> None:
    """Operations one after another: ``init`` (the operation's set-up and descriptors),
    ``batch`` (files to work on), ``end`` (close everything of it and say so)."""
    ctx: Context | None = None
    while True:
        msg, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
        if not msg:
            return  # the registry closed the socket: done
        message = marshal.loads(msg)
        kind = message[0]
        if kind == "init":
            if ctx is not None:
                _end(ctx)
            ctx = context_from(message[1], fds, owns_fds=True, may_map=True)
            ctx.switch.enter()
            continue
        if kind == "end":
            if ctx is not None:
                _end(ctx)
                ctx = None
            sock.sendall(marshal.dumps({"ended": True}))
            continue
        _kind, seq, ids, new, files = message
        try:
            if ctx is None:
                raise BatchError(0, "internal: a batch before its operation's set-up")
            ctx.set_dirs(ids, new, fds)
            result = run_batch(ctx, seq, files)
        except BatchError as e:
            result = {"seq": seq, "error": (e.err, str(e), e.reason)}
        except OSError as e:
            err = readable(e)
            result = {"seq": seq, "error": (e.errno or 0, str(err), err.reason)}
        sock.sendall(marshal.dumps(result))


def _end(ctx: Context) -> None:
    ctx.close()
    ctx.switch.leave()
    hooks.DIR = None


def main(argv: list[str]) -> None:
    sock_fd, parent = int(argv[1]), int(argv[2])
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the registry's to handle
    os.umask(0o022)
    _more_descriptors()
    sock = socket.socket(fileno=sock_fd)
    try:
        serve(sock)
    except BrokenPipeError:
        pass  # the registry went away mid-answer
    finally:
        sock.close()


if __name__ == "__main__":
    main(sys.argv)
