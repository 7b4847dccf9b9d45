"""``fermi``: the command line. Exit codes: 0 done, 1 refused or failed (the message says why),
2 bad arguments, 3 the registry cannot be reached, 4 still running after ``--timeout``."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..client import FermiError, RegistryClient, RegistryUnavailable
from ..mounts import MountError
from . import actions
from .parser import UsageError, build
from .progress import Bar
from .tables import Table

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4


def run(
    argv: list[str],
    *,
    notebook: bool = False,
    url: str | None = None,
    token: str | None = None,
    progress: bool = True,
    timeout: float | None = None,
) -> Any:
    """Parse and run one command; return its result (Table, Version, Job or help text).

    ``url``/``token`` default to ``$FERMI_REGISTRY_URL``/``$JUPYTERHUB_API_TOKEN``;
    ``timeout`` applies when ``--timeout`` is not given.
    """
    parser = build()
    args = parser.parse_args(argv)
    if args.verb in (None, "help"):
        return parser.format_help()
    if args.verb == "mounts":
        return actions.mounts(_client_or_none(url, token))
    if args.verb == "ls" and ":" not in args.path:
        return actions.ls(None, args.path)
    wait_for = args.timeout if args.timeout is not None else timeout
    args.timeout = wait_for or None  # 0 means: wait as long as it takes
    client = RegistryClient(url, token)
    bar = Bar(
        getattr(args, "ref", None) or getattr(args, "path", ""),
        notebook=notebook,
        disable=bool(args.json) or not progress,
    )
    try:
        if args.verb == "volumes":
            return actions.volumes(client)
        if args.verb == "ls":
            return actions.ls(client, args.path)
        if args.verb == "datasets":
            return actions.datasets(client, args.query, args.scope)
        if args.verb == "versions":
            return actions.versions(client, args.name)
        if args.verb == "status":
            return actions.status(client, args.ref)
        if args.verb == "register":
            return actions.register(client, args, bar if args.wait else None)
        if args.verb == "verify":
            return actions.verify(client, args.ref, bar, args.timeout)
        if args.verb == "restore":
            return actions.restore(client, args.ref, args.path, bar, args.timeout)
    finally:
        bar.close()
        client.close()
    raise UsageError(f"unknown verb {args.verb!r}")


def _client_or_none(url: str | None = None, token: str | None = None) -> RegistryClient | None:
    try:
        return RegistryClient(url, token)
    except FermiError:
        return None


def render(result: Any, as_json: bool) -> str:
    if isinstance(result, str):
        return result.rstrip()
    if as_json:
        data = result.to_json() if isinstance(result, Table) else getattr(result, "raw", result)
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if isinstance(result, Table):
        return str(result)
    return describe(result)


def describe(obj: Any) -> str:
    """A version or job as a few readable lines."""
    raw = getattr(obj, "raw", {}) or {}
    if "number" in raw:  # a version
        p = obj.progress
        lines = [f"{obj.label}  {obj.status}  ({obj.mode}, {obj.ref})"]
        if obj.status == "processing":
            lines.append(f"  progress: {p.files_done:,}/{p.files_total or 0:,} files")
        if obj.files is not None:
            lines.append(
                f"  files: {obj.files:,}  size: {actions.human_bytes(obj.bytes)}"
                f"  new: {actions.human_bytes(obj.new_bytes)}"
            )
        if obj.digest:
            lines.append(f"  digest: {obj.digest}")
        if obj.parents:
            lines.append(f"  parents: {', '.join(obj.parents)}")
        if obj.error:
            lines.append(f"  error: {obj.error}")
        return "\n".join(lines)
    if "kind" in raw:  # a job
        result = obj.result or {}
        if obj.kind == "verify":
            if result.get("ok"):
                return (
                    f"{obj.version}: intact ({result.get('files', 0):,} files match the manifest)"
                )
            return (
                f"{obj.version}: DRIFTED — {result.get('n_changed', 0)} changed, "
                f"{result.get('n_added', 0)} added, {result.get('n_removed', 0)} removed: "
                + ", ".join((result.get("changed") or [])[:5])
            )
        if obj.kind == "restore":
            files = result.get("files", 0)
            return f"restored {obj.version} into {result.get('path')} ({files:,} files)"
        return f"job {obj.id} {obj.state}"
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
    except (FermiError, MountError) as e:
        print(f"fermi: {e}", file=sys.stderr)
        timed_out = getattr(e, "reason", "") == "timeout"
        sys.exit(EXIT_TIMEOUT if timed_out else EXIT_FAILED)
    print(render(result, as_json))
    failed = getattr(result, "status", None) in ("failed", "drifted") or (
        getattr(result, "kind", None) == "verify" and not (result.result or {}).get("ok", True)
    )
    sys.exit(EXIT_FAILED if failed else EXIT_OK)
