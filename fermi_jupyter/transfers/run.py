"""One attempt of one transfer, as a process: ``python -m fermi_jupyter.transfers.run``.

The spec (JSON, no secrets) comes on stdin or in ``FERMI_TRANSFER_SPEC``; secrets come in
``FERMI_SECRET_*`` environment variables. Progress, log lines and the result go to stdout as JSON
lines. Exit status: 0 done, 1 failed (another attempt may help), 2 failed for good (bad
credentials, nothing there, bad input). The registry runs this as its child, as the volume's
owner (never root: ``registry/transfers/runas.py``); on Kubernetes it is the Job's container
command, as the user's pods' uid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from .context import Context, secrets_from_env
from .errors import TransferError
from .report import Redactor, Reporter

EXIT_OK, EXIT_RETRY, EXIT_PERMANENT = 0, 1, 2


def engine(spec: dict[str, Any]):  # type: ignore[no-untyped-def]
    tool = (spec["source"] if spec["direction"] == "download" else spec["sink"])["type"]
    if tool == "git":
        from . import git as mod
    elif tool == "huggingface":
        from . import hf as mod  # type: ignore[no-redef]
    elif spec["direction"] == "download":
        from .s3_get import download

        return download
    else:
        from .s3 import upload

        return upload
    return mod.download if spec["direction"] == "download" else mod.upload


def _check_hosts(spec: dict[str, Any]) -> None:
    """Where the tool will connect, checked again now: a name may point elsewhere than when
    the transfer was asked for."""
    from .errors import SpecError
    from .spec import check_host, remote_urls

    for url in remote_urls(spec):
        try:
            check_host(url, allow_loopback=bool(spec.get("allow_loopback")))
        except SpecError as e:
            raise TransferError(e.message, "refused") from None


def _die_with_group(signum: int, _frame: object) -> None:
    # the registry died (parent-death signal) or a deadline/cancel: take git & co. along
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getpgrp() == os.getpid():
        os.killpg(0, signal.SIGKILL)
    os._exit(EXIT_RETRY)


def main() -> int:
    signal.signal(signal.SIGTERM, _die_with_group)
    raw = os.environ.get("FERMI_TRANSFER_SPEC") or sys.stdin.read()
    spec = json.loads(raw)
    secrets = secrets_from_env()
    redact = Redactor(secrets.values())
    report = Reporter(redact)
    workdir = Path(tempfile.mkdtemp(prefix="fermi-transfer-"))
    ctx = Context(spec=spec, secrets=secrets, report=report, tag=spec["tag"], workdir=workdir)
    # huggingface_hub and boto3 read caches and config from HOME: give them a private one
    os.environ["HOME"] = str(workdir)
    os.environ["HF_HOME"] = str(workdir / "hf")
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        _check_hosts(spec)
        result = engine(spec)(ctx)
        result["warnings"] = ctx.warnings[:100]
        report.emit("result", **result)
        return EXIT_OK
    except TransferError as e:
        report.emit("error", reason=e.reason, message=redact(e.message), retryable=e.retryable)
        return EXIT_RETRY if e.retryable else EXIT_PERMANENT
    except Exception as e:  # a bug or an unforeseen tool error: say what, keep it one line
        message = redact(f"{type(e).__name__}: {e}".splitlines()[0])
        report.emit("error", reason="failed", message=message, retryable=True)
        return EXIT_RETRY
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
