"""``fermi import|export|transfers|transfer|credentials|credential``: transfers from the CLI and
the ``%fermi`` magics (the same parser and verbs).

Remote places are written as URLs: ``s3://bucket/prefix``, ``hf://owner/repo`` (also
``hf://datasets/owner/repo``, ``hf://…@revision``), ``https://host/repo.git`` (Git; also
``git://`` and ``git+https://``). Local places: ``VOLUME:path`` (a volume's name or id), a folder
of a volume mounted here (``/workspace/models``), or, to export, ``NAME@N``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from ..client import FermiError, RegistryClient
from ..client.transfers import Transfer
from ..domain.mounts import MountKind
from ..workspace.sync import Workspace
from .parser import UsageError
from .tables import Record, Table, human_bytes

VERBS = ("import", "export", "transfers", "transfer", "credentials", "credential")
HELP = """\
  import SOURCE DEST          download s3://…, hf://owner/repo or a Git URL into VOLUME:path or a
                              mounted folder (--dataset NAME imports it as a dataset; --wait)
  export SOURCE DEST          upload VOLUME:path, a mounted folder or NAME@N to s3://…, hf://…
                              or a Git URL
  transfers [--state S]       your transfers
  transfer ID [--log|--cancel]  one transfer, its log, or cancel it
  credentials                 your stored credentials (names only)
  credential add NAME --type git|huggingface|s3   store one (the secret is read from stdin)
  credential delete NAME
"""


class TransferUsage(UsageError):
    """A place or option the verbs cannot use: exit status 2, like any bad argument."""


def add_verbs(verb: Callable[[str, str], argparse.ArgumentParser]) -> None:
    for name, text, direction in (
        ("import", "download into a volume (or import as a dataset)", "download"),
        ("export", "upload a folder or a dataset version", "upload"),
    ):
        p = verb(name, text)
        p.add_argument("source")
        p.add_argument("dest")
        p.add_argument("--credential", help="a stored credential's name")
        p.add_argument("--ref", help="Git: branch, tag or commit (export: branch to push to)")
        p.add_argument("--endpoint", help="S3 endpoint or another Hub")
        p.add_argument("--region")
        p.add_argument("--retries", type=int, default=0, help="backoff_limit")
        p.add_argument("--deadline", type=int, default=None, help="seconds per attempt")
        p.add_argument(
            "--arg",
            action="append",
            dest="extra_args",
            default=[],
            help="an extra tool option, e.g. --arg=--depth=1 (repeat)",
        )
        p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
        p.add_argument("--wait", action="store_true", help="follow it until done, with progress")
        if direction == "download":
            p.add_argument("--files", help="Hugging Face: files or patterns, comma-separated")
            p.add_argument("--sync", action="store_true", help="S3: delete what the source lacks")
            target = p.add_mutually_exclusive_group()
            target.add_argument("--dataset", help="import as a new dataset of this name")
            target.add_argument(
                "--version-of",
                dest="version_of",
                metavar="NAME",
                help="import as a new version of this dataset",
            )
            p.add_argument("--message", "-m", default=None)
        else:
            p.add_argument("--path-in-repo", dest="path_in_repo")
            p.add_argument("--message", "-m", default=None, help="Hugging Face commit message")
            p.add_argument("--no-check-bucket", dest="no_check_bucket", action="store_true")
    ts = verb("transfers", "your transfers")
    ts.add_argument("--state", choices=["pending", "running", "complete", "failed", "cancelled"])
    t1 = verb("transfer", "one transfer")
    t1.add_argument("transfer_id", metavar="ID")
    t1.add_argument("--log", action="store_true")
    t1.add_argument("--cancel", action="store_true")
    verb("credentials", "your stored credentials")
    c1 = verb("credential", "add or delete a stored credential")
    c1.add_argument("action", choices=["add", "delete"])
    c1.add_argument("name")
    c1.add_argument("--type", dest="cred_type", choices=["git", "huggingface", "s3"])
    c1.add_argument("--username", help="git: a user name to send with the token")
    c1.add_argument("--access-key-id", dest="access_key_id", help="s3: the access key id")


# -- places ---------------------------------------------------------------------------------
def remote(text: str, args: argparse.Namespace, *, upload: bool) -> dict[str, Any]:
    """A remote place from its URL and the options."""
    out: dict[str, Any]
    if text.startswith("s3://"):
        out = {"type": "s3", "uri": text}
        if args.region:
            out["region"] = args.region
        if upload and args.no_check_bucket:
            out["no_check_bucket"] = True
    elif text.startswith(("hf://", "huggingface:")):
        rest = text.split("://", 1)[1] if "://" in text else text.split(":", 1)[1]
        repo_type = "model"
        for kind in ("datasets", "spaces", "models"):
            if rest.startswith(kind + "/"):
                repo_type, rest = kind[:-1], rest[len(kind) + 1 :]
        repo, _, revision = rest.partition("@")
        out = {"type": "huggingface", "repo": repo, "repo_type": repo_type}
        if revision:
            out["revision"] = revision
        if upload:
            if args.path_in_repo:
                out["path_in_repo"] = args.path_in_repo
            if args.message:
                out["commit_message"] = args.message
        elif args.files:
            out["files"] = args.files
    elif text.startswith(("https://", "http://", "git://", "git+https://", "git+http://")):
        out = {"type": "git", "url": text.removeprefix("git+")}
        if args.ref:
            out["ref"] = args.ref
    else:
        raise TransferUsage(
            f"{text!r} is not a remote place: s3://bucket/prefix, hf://owner/repo or a Git URL"
        )
    if args.endpoint and out["type"] != "git":
        out["endpoint"] = args.endpoint
    if args.credential:
        out["credential"] = args.credential
    return out


def local(ws: Workspace, rc: RegistryClient, text: str, *, upload: bool) -> dict[str, Any]:
    """``VOLUME:path``, a folder of a volume mounted here, or (to export) ``NAME@N``."""
    if upload and "@" in text and ":" not in text and not os.path.exists(text):
        return {"type": "dataset", "version": text}
    if ":" in text and not os.path.exists(text):
        name, _, sub = text.partition(":")
        return {"type": "volume", "volume_id": _volume_id(rc, name), "path": sub.strip("/")}
    path = os.path.abspath(text)
    for m in ws.manager.mounts_here():
        root = os.path.abspath(m.mount_path)
        if m.kind is MountKind.volume and (path == root or path.startswith(root + "/")):
            if m.read_only and not upload:
                raise TransferUsage(f"{m.mount_path} is mounted read-only here")
            rel = os.path.relpath(path, root)
            return {"type": "volume", "volume_id": m.volume_id, "path": "" if rel == "." else rel}
    raise TransferUsage(
        f"{text!r} is neither VOLUME:path nor a folder of a volume mounted here"
        + (" nor NAME@N" if upload else "")
    )


def _volume_id(rc: RegistryClient, name: str) -> str:
    if name.startswith("vol-"):
        return name
    exact = [v for v in rc.volumes(name) if v.name == name]
    if not exact:
        raise FermiError(f"no volume {name!r}; see: fermi volumes", reason="volume-not-found")
    return exact[0].id


def _policy(args: argparse.Namespace) -> dict[str, Any]:
    env = {}
    for item in args.env:
        name, eq, value = item.partition("=")
        if not eq:
            raise TransferUsage(f"--env takes NAME=VALUE, not {item!r}")
        env[name] = value
    policy: dict[str, Any] = {
        "backoff_limit": args.retries,
        "extra_args": args.extra_args,
        "env": env,
    }
    if args.deadline:
        policy["active_deadline_seconds"] = args.deadline
    if getattr(args, "sync", False):
        policy["sync"] = True
    return policy


# -- verbs ------------------------------------------------------------------------------------
def dispatch(ws: Workspace, rc: RegistryClient, args: argparse.Namespace, bar: Any) -> Any:
    verb = args.verb
    if verb in ("import", "export"):
        upload = verb == "export"
        if upload:
            source, sink = (
                local(ws, rc, args.source, upload=True),
                remote(args.dest, args, upload=True),
            )
            dataset = None
        else:
            source, sink = (
                remote(args.source, args, upload=False),
                local(ws, rc, args.dest, upload=False),
            )
            dataset = _dataset(rc, args)
        t = rc.start_transfer(source, sink, policy=_policy(args), dataset=dataset)
        if args.wait:
            bar.label = f"{verb} {args.source}"
            t = rc.wait_transfer(t.id, timeout=args.timeout, on_progress=bar)
        return t
    if verb == "transfers":
        items = rc.transfers(state=args.state, limit=200)
        rows = [_row(t) for t in items]
        return Table(
            ["id", "direction", "from", "to", "state", "attempts", "progress"],
            rows,
            "Transfers",
            empty="no transfers yet: fermi import …",
            data=items,
        )
    if verb == "transfer":
        if args.log:
            return rc.transfer_log(args.transfer_id)["text"] or "(the log is empty)"
        if args.cancel:
            return rc.cancel_transfer(args.transfer_id)
        return rc.transfer(args.transfer_id)
    if verb == "credentials":
        items = rc.credentials()
        rows = [
            {"name": c["name"], "type": c["type"], "fields": ", ".join(c["fields"])} for c in items
        ]
        return Table(
            ["name", "type", "fields"],
            rows,
            "Credentials",
            empty="none stored: fermi credential add NAME --type …",
            data=[Record(c) for c in items],
        )
    if verb == "credential":
        if args.action == "delete":
            rc.delete_credential(args.name)
            return f"deleted credential {args.name}"
        return _add_credential(rc, args)
    raise TransferUsage(f"unknown verb {verb!r}")


def _dataset(rc: RegistryClient, args: argparse.Namespace) -> dict[str, Any] | None:
    if args.dataset:
        return {"name": args.dataset, **({"message": args.message} if args.message else {})}
    if args.version_of:
        ds = rc.dataset(args.version_of)
        return {"id": ds.id, **({"message": args.message} if args.message else {})}
    return None


def _add_credential(rc: RegistryClient, args: argparse.Namespace) -> str:
    if not args.cred_type:
        raise TransferUsage("credential add needs --type git|huggingface|s3")
    prompt = "secret access key: " if args.cred_type == "s3" else "token: "
    # never an argument (it would show in ps and shell history): a prompt, or stdin
    secret = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not secret:
        raise TransferUsage("no secret given (type it at the prompt, or pipe it on stdin)")
    values: dict[str, str] = {}
    if args.cred_type == "s3":
        if not args.access_key_id:
            raise TransferUsage("an s3 credential needs --access-key-id")
        values = {"access_key_id": args.access_key_id, "secret_access_key": secret}
    else:
        values = {"token": secret}
        if args.username:
            values["username"] = args.username
    rc.create_credential(args.name, args.cred_type, **values)
    return f"stored credential {args.name} ({args.cred_type})"


def _place(side: dict[str, Any] | None) -> str:
    side = side or {}
    kind = side.get("type")
    if kind == "volume":
        return f"{side.get('volume_id')}:{side.get('path') or '/'}"
    if kind == "dataset":
        return side.get("version", "")
    if kind == "git":
        return side.get("url", "")
    if kind == "huggingface":
        return f"hf://{side.get('repo')}"
    return side.get("uri", "")


def _row(t: Transfer) -> dict[str, Any]:
    p = t.progress
    return {
        "id": t.id,
        "direction": t.direction,
        "from": _place(t.raw.get("source")),
        "to": _place(t.raw.get("sink")),
        "state": t.state + (f" ({t.reason})" if t.reason and t.state != "complete" else ""),
        "attempts": t.attempts,
        "progress": f"{p.files_done:,} files, {human_bytes(p.bytes_done)}",
    }


def describe(t: Transfer) -> str:
    lines = [
        f"transfer {t.id}  {t.direction} {t.tool}  {t.state}"
        + (f" ({t.reason})" if t.reason and t.state != "complete" else "")
    ]
    lines.append(f"  from: {_place(t.raw.get('source'))}")
    lines.append(f"  to:   {_place(t.raw.get('sink'))}")
    p = t.progress
    lines.append(
        f"  progress: {p.files_done:,} files, {human_bytes(p.bytes_done)}; attempts: {t.attempts}"
    )
    if t.result and t.result.get("revision"):
        lines.append(f"  revision: {t.result['revision']}")
    if t.version:
        lines.append(f"  version: {t.version}")
    if t.error:
        lines.append(f"  error: {t.error}")
    return "\n".join(lines)
