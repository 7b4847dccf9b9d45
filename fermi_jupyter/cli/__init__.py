"""``fermi``: the command line. Exit codes: 0 done, 1 refused or failed (the message says why),
2 bad arguments, 3 the registry cannot be reached, 4 still running after ``--timeout``."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from ..client import FermiError, RegistryUnavailable
from ..domain.states import VersionStatus
from ..workspace.sync import Workspace
from . import actions, transfers
from .parser import UsageError, build
from .progress import Bar
from .tables import Done, Record, Table

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4


def run(
    argv: list[str],
    *,
    notebook: bool = False,
    url: str | None = None,
    token: str | None = None,
    progress: bool = True,
    timeout: float | None = None,
    workspace: Workspace | None = None,
) -> Any:
    """Parse and run one command; return its result (Table, Version, Job, Dataset or text).

    ``url``/``token`` default to ``$FERMI_REGISTRY_URL``/``$JUPYTERHUB_API_TOKEN``;
    ``timeout`` applies when ``--timeout`` is not given; ``workspace`` is reused when given
    (the magics keep one), else one is made for this command.
    """
    parser = build()
    args = parser.parse_args(argv)
    if args.verb in (None, "help"):
        return parser.format_help()
    wait_for = args.timeout if args.timeout is not None else timeout
    args.timeout = wait_for or None  # 0 means: wait as long as it takes
    ws = workspace or Workspace(url, token)
    bar = Bar(
        getattr(args, "ref", None) or getattr(args, "path", ""),
        notebook=notebook,
        disable=bool(args.json) or not progress,
    )
    try:
        return dispatch(ws, args, bar)
    finally:
        bar.close()
        if workspace is None:
            ws.close()


def dispatch(ws: Workspace, args: Any, bar: Bar) -> Any:
    a = actions
    verb = args.verb
    if verb == "info":
        return a.info(ws)
    if verb == "mounts":
        return a.mount_records(ws) if args.all else a.mounts(ws)
    if verb == "volumes":
        return a.volumes(ws, args.query)
    if verb == "volume":
        return a.create_volume(ws, args)
    if verb == "usage":
        return a.usage(ws, args.volume)
    if verb == "ls":
        return a.ls(ws, args.path)
    if verb == "datasets":
        return a.datasets(ws, args)
    if verb == "show":
        return a.show(ws, args.name)
    if verb == "create":
        return a.create(ws, args)
    if verb == "edit":
        return a.edit(ws, args)
    if verb == "versions":
        return a.versions(ws, args.name)
    if verb == "status":
        return a.status(ws, args.ref)
    if verb == "register":
        return a.register(ws, args, bar if args.wait else None)
    if verb == "cancel":
        return a.cancel(ws, args.ref)
    if verb == "verify":
        return a.verify(ws, args.ref, bar, args.timeout)
    if verb == "restore":
        return a.restore(ws, args.ref, args.path, bar, args.timeout)
    if verb == "diff":
        return a.diff(ws, args.base, args.target, args.limit)
    if verb == "lineage":
        return a.lineage(ws, args.ref)
    if verb == "manifest":
        return a.manifest(ws, args.ref)
    if verb == "alias":
        return a.alias(ws, args.ref, args.alias)
    if verb == "unalias":
        return a.unalias(ws, args.name, args.alias)
    if verb == "delete":
        return a.delete(ws, args.ref, args.dataset)
    if verb == "jobs":
        return a.jobs(ws, args.state)
    if verb == "job":
        return a.job(ws, args.job_id, args.cancel)
    if verb == "audit":
        return a.audit(ws, args)
    if verb == "events":
        return follow(ws, args.dataset, args.count, args.json)
    if verb in transfers.VERBS:
        rc = ws.run(_sync_client(ws))
        try:
            return transfers.dispatch(ws, rc, args, bar)
        finally:
            rc.close()
    raise UsageError(f"unknown verb {verb!r}")


def follow(ws: Workspace, dataset: str | None, count: int | None, as_json: bool) -> str:
    """Print events as they come (a line each, or JSON lines); returns after ``count``."""
    dataset_id = ws.dataset(dataset)["id"] if dataset else None
    seen = 0
    with contextlib.closing(ws.events(dataset_id=dataset_id)) as events:
        for event in events:
            if event.type == "resync":
                continue  # a fresh stream has nothing to catch up on
            data = event.data
            if as_json:
                print(json.dumps({"event": event.type, **data}, ensure_ascii=False), flush=True)
            else:
                p = data.get("progress") or {}
                name = data.get("dataset_name") or data.get("dataset_id")
                line = f"{name}@{data.get('number')}  {data.get('status')}"
                if p.get("files_total"):
                    line += f"  {p.get('files_done') or 0:,}/{p['files_total']:,} files"
                if data.get("job_kind") not in (None, "register"):
                    line += f"  ({data['job_kind']} {data.get('job_state')})"
                print(line, flush=True)
            seen += 1
            if count is not None and seen >= count:
                break
    return ""


def render(result: Any, as_json: bool) -> str:
    if isinstance(result, str):
        return result.rstrip()
    if as_json:
        data = (
            result.to_json()
            if isinstance(result, Table | Record | Done)
            else getattr(result, "raw", result)
        )
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if isinstance(result, Table | Done):
        return str(result)
    return describe(result)


def describe(obj: Any) -> str:
    """A version, job or dataset as a few readable lines."""
    raw = getattr(obj, "raw", {}) or {}
    if "number" in raw:  # a version
        p = obj.progress
        lines = [f"{obj.label}  {obj.status}  ({obj.mode}, {obj.ref})"]
        if obj.status == VersionStatus.processing.value:
            line = f"  progress: {p.files_done or 0:,}/{p.files_total or 0:,} files"
            if p.eta_seconds is not None:
                line += f", about {p.eta_seconds:.0f}s left"
            if p.stalled_since:
                line += f", stalled since {p.stalled_since}"
            lines.append(line)
        if obj.files is not None:
            lines.append(
                f"  files: {obj.files:,}  size: {actions.human_bytes(obj.bytes)}"
                f"  new: {actions.human_bytes(obj.new_bytes)}"
            )
        if obj.aliases:
            lines.append(f"  aliases: {', '.join(obj.aliases)}")
        if obj.digest:
            lines.append(f"  digest: {obj.digest}")
        if obj.parents:
            lines.append(f"  parents: {', '.join(obj.parents)}")
        if obj.error:
            lines.append(f"  error: {obj.error}")
        return "\n".join(lines)
    if "kind" in raw and "state" in raw:  # a job
        result = obj.result or {}
        if obj.kind == "verify" and obj.state == "done":
            if result.get("ok"):
                return (
                    f"{obj.version}: intact ({result.get('files', 0):,} files match the manifest)"
                )
            return (
                f"{obj.version}: DRIFTED — {result.get('n_changed', 0)} changed, "
                f"{result.get('n_added', 0)} added, {result.get('n_removed', 0)} removed: "
                + ", ".join((result.get("changed") or [])[:5])
            )
        if obj.kind == "restore" and obj.state == "done":
            files = result.get("files", 0)
            return f"restored {obj.version} into {result.get('path')} ({files:,} files)"
        return f"job {obj.id} ({obj.kind} of {obj.version}) {obj.state}" + (
            f": {obj.error}" if obj.error and obj.error != obj.state else ""
        )
    if "visibility" in raw:  # a dataset
        lines = [
            f"{obj.owner}/{obj.name}  {obj.visibility}" + (f" ({obj.team})" if obj.team else "")
        ]
        latest = obj.latest if obj.latest is not None else "— (no ready version)"
        lines.append(f"  id: {obj.id}  type: {obj.data_type}  latest: {latest}")
        if obj.tags:
            lines.append(f"  tags: {', '.join(obj.tags)}")
        if obj.aliases:
            lines.append(
                "  aliases: " + ", ".join(f"{k}→{v}" for k, v in sorted(obj.aliases.items()))
            )
        if obj.description:
            lines.append(f"  description: {obj.description}")
        return "\n".join(lines)
    if "capacity_bytes" in raw:  # a volume
        return f"{obj.name}  {obj.id}  {obj.type}  {actions.human_bytes(obj.capacity_bytes)}"
    if isinstance(obj, transfers.Transfer):
        return transfers.describe(obj)
    if isinstance(obj, Record):
        return "  ".join(f"{k}: {v}" for k, v in obj.items())
    return str(obj)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        result = run(argv, progress=sys.stderr.isatty())  # no bars in captured output
    except UsageError as e:
        print(f"fermi: {e}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except RegistryUnavailable as e:
        print(f"fermi: {e}", file=sys.stderr)
        sys.exit(EXIT_UNREACHABLE)
    except FermiError as e:
        print(f"fermi: {e}", file=sys.stderr)
        if e.reason == "registry-unavailable":
            sys.exit(EXIT_UNREACHABLE)
        sys.exit(EXIT_TIMEOUT if e.reason == "timeout" else EXIT_FAILED)
    except KeyboardInterrupt:
        sys.exit(130)
    text = render(result, as_json)
    if text:
        try:
            print(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `fermi manifest X@1 | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
    failed = getattr(result, "status", None) in (
        VersionStatus.failed.value,
        VersionStatus.drifted.value,
    ) or (getattr(result, "kind", None) == "verify" and not (result.result or {}).get("ok", True))
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


async def _sync_client(ws: Workspace) -> Any:
    """A synchronous registry client for the transfer verbs (made on the workspace's loop
    thread, where the manager knows the registry's URL and token)."""
    from ..client import RegistryClient

    url, token = ws.manager.registry()
    return RegistryClient(url or None, token or None)
