"""Real servers on loopback for transfer tests: moto's S3, Git over smart HTTP, a Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..support.git_server import GitHTTPServer
from ..support.hf_hub import HubServer
from ..support.s3_server import S3Server

GIT_TOKEN = "ghp-fermi-test-token-5d1e"
HF_TOKEN = "hf_fermiWriteToken77"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHTTPServer]:
    server = GitHTTPServer(tmp_path_factory.mktemp("git-remote"), GIT_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    server = HubServer(HF_TOKEN).start()
    yield server
    server.stop()


def run_child(spec: dict[str, Any], secrets: dict[str, str] | None = None, timeout: float = 120):
    """One attempt as the registry runs it: ``python -m fermi_jupyter.transfers.run``.
    Returns (exit status, events, stderr)."""
    from fermi_jupyter.transfers.context import SECRET_ENV

    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    env.update({SECRET_ENV[k]: v for k, v in (secrets or {}).items()})
    spec = {"tag": "t1", "allow_loopback": True, **spec}  # (the test servers are on loopback)
    proc = subprocess.run(
        [sys.executable, "-m", "fermi_jupyter.transfers.run"],
        input=json.dumps(spec), env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def result_of(events: list[dict]) -> dict:
    return next(e for e in events if e["event"] in ("result", "error"))


def policy(**kw: Any) -> dict[str, Any]:
    return {"backoff_limit": 0, "active_deadline_seconds": None, "extra_args": [], "env": {},
            "sync": False, **kw}  # fmt: skip


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    root = tmp_path / "vol"
    root.mkdir()
    return root


def outside_files(root: Path) -> set[str]:
    """Everything under root's parent that is not under root (to prove nothing escaped)."""
    return {str(p) for p in root.parent.rglob("*") if root not in p.parents and p != root}


def wait_transfer(
    c, tid: str, timeout: float = 60, until=("complete", "failed", "cancelled")
) -> dict:
    """The transfer once its state is one of ``until`` (through the registry's API)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = c.get(f"/transfers/{tid}").json()
        if t["state"] in until:
            return t
        time.sleep(0.05)
    raise AssertionError(f"transfer {tid} still {t['state']}: {t}")
