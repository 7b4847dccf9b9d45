"""One attempt of a transfer as a child process of the registry.

``python -m fermi_jupyter.transfers.run`` runs in its own process group, started with a
parent-death signal: when the registry dies the child gets SIGTERM and kills its group (git and
its helpers too). A deadline or a cancel kills the group. The child's JSON lines become log
lines and progress for the caller; its secrets reach it in the environment only.

The child runs as ``run_as`` (the volume's owner, see :mod:`.runas`), never as root, with a
private HOME/TMPDIR of its own and nothing of the registry's environment but PATH, the
passthrough variables (certificate authorities, proxies), the policy's extra environment and
the transfer's own credentials.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...transfers.context import SECRET_ENV, passthrough_env
from ...transfers.report import Redactor
from .lines import LineReader, Outcome
from .runas import PrivateHome, RunAs

PR_SET_PDEATHSIG = 1
__all__ = ["Attempt", "Outcome"]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Attempt:
    """Callbacks: ``log(text)`` appends to the transfer's log, ``progress(values)`` saves
    progress, ``heartbeat()`` says the job is alive and answers whether it is being cancelled."""

    python: str
    spec: dict[str, Any]
    local_root: Path
    tag: str
    number: int
    secrets: dict[str, str]
    log: Callable[[str], None]
    progress: Callable[[dict[str, Any]], None]
    heartbeat: Callable[[], bool]
    cancel: threading.Event
    run_as: RunAs | None = None  # None: the registry is not root, the child keeps its uid
    allow_loopback: bool = False  # (tests: servers on this machine)
    pid: int | None = field(default=None, init=False)

    def run(self) -> Outcome:
        home = PrivateHome(self.run_as)
        try:
            return self._run(home.path)
        finally:
            home.remove()

    def _run(self, home: str) -> Outcome:
        redact = Redactor(self.secrets.values())
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        env.update(passthrough_env())
        env.update(self.spec["policy"]["env"])  # checked: no clash with ours
        env.update({SECRET_ENV[k]: v for k, v in self.secrets.items() if k in SECRET_ENV})
        env.update(HOME=home, TMPDIR=home)
        child_spec = {
            **self.spec,
            "local_root": str(self.local_root),
            "tag": self.tag,
            "allow_loopback": self.allow_loopback,  # the child checks the hosts again
        }
        proc = subprocess.Popen(
            [self.python, "-m", "fermi_jupyter.transfers.run"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            start_new_session=True,
            preexec_fn=_die_with_parent,  # runs after the switch: the setting survives exec
            text=True,
            errors="replace",
            **(self.run_as.popen() if self.run_as else {}),
        )
        self.pid = proc.pid
        assert proc.stdin and proc.stdout and proc.stderr
        proc.stdin.write(json.dumps(child_spec))
        proc.stdin.close()
        events: queue.Queue[tuple[str, str]] = queue.Queue()
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, "out", events), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, "err", events), daemon=True),
        ]
        for r in readers:
            r.start()
        deadline = self.spec["policy"]["active_deadline_seconds"]
        started, last_beat = time.monotonic(), 0.0
        stopped: str | None = None
        reader = LineReader(self.number, redact, self.log, self.progress)
        while True:
            exited = proc.poll() is not None
            _drain(events, reader)
            if exited and not any(r.is_alive() for r in readers):
                _drain(events, reader)
                break
            now = time.monotonic()
            if stopped is None:
                if deadline and now - started > deadline:
                    stopped = "deadline"
                elif self.cancel.is_set():
                    stopped = "cancelled"
                elif now - last_beat >= 1.0:
                    last_beat = now
                    if self.heartbeat():
                        stopped = "cancelled"
                if stopped:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.1)
        proc.wait()
        if stopped == "deadline":
            return Outcome(
                False, "deadline", f"the attempt ran past active_deadline_seconds ({deadline}s)"
            )
        if stopped == "cancelled":
            return Outcome(False, "cancelled", "cancelled")
        return reader.outcome(proc.returncode)


def _drain(events: queue.Queue, reader: LineReader) -> None:
    """Hand what the child said so far to the log and progress callbacks."""
    while True:
        try:
            stream, line = events.get_nowait()
        except queue.Empty:
            break
        reader.feed(line, plain=stream == "err")
    reader.flush()


def _pump(stream: Any, name: str, out: queue.Queue) -> None:
    for line in stream:
        out.put((name, line))
