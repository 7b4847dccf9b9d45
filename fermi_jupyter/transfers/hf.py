"""Hugging Face through ``huggingface_hub``'s own functions.

Download: ``HfApi.repo_info`` pins the revision to a commit, then ``snapshot_download`` fills the
staging folder (``local_dir``; ``hf_xet`` is used by the library when the Hub offers Xet storage).
Upload: ``HfApi.create_commit`` with one ``CommitOperationAdd`` per regular file, each opened
without following links (``upload_folder`` would follow a symlink out of the volume).
The token is passed explicitly, or ``False``: the library never reads one from the machine.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from .context import Context
from .errors import TransferError
from .s3 import local_files, open_below
from .staging import Staging, tree_size


def _api(ctx: Context):  # type: ignore[no-untyped-def]
    from huggingface_hub import HfApi

    return HfApi(
        endpoint=ctx.remote.get("endpoint") or None, token=ctx.secrets.get("token") or False
    )


def translate(e: Exception, what: str) -> TransferError:
    from huggingface_hub import errors as hf_errors

    if isinstance(e, TransferError):
        return e
    status = getattr(getattr(e, "response", None), "status_code", None)
    name = type(e).__name__
    if isinstance(e, hf_errors.GatedRepoError) or status in (401, 403):
        return TransferError(
            f"the Hub refused access to {what} ({status or name}): a token with access is "
            "needed (gated and private repositories)",
            "unauthorized",
        )
    if isinstance(e, (hf_errors.RepositoryNotFoundError, hf_errors.RevisionNotFoundError)):
        return TransferError(f"{what}: {name.replace('Error', '')} on the Hub", "not-found")
    if isinstance(e, hf_errors.EntryNotFoundError) or status == 404:
        return TransferError(f"{what}: not found on the Hub", "not-found")
    if isinstance(e, (hf_errors.LocalEntryNotFoundError, OSError)) or "Connect" in name:
        return TransferError(f"cannot reach the Hub for {what}: {name}", "unreachable")
    first = str(e).splitlines()[0] if str(e) else name
    return TransferError(f"Hugging Face transfer of {what} failed: {first}", "failed")


def download(ctx: Context) -> dict[str, Any]:
    from huggingface_hub import snapshot_download

    r = ctx.remote
    what = f"{r['repo_type']} {r['repo']}"
    api = _api(ctx)
    opts = ctx.options
    try:
        info = api.repo_info(
            r["repo"], repo_type=r["repo_type"], revision=r.get("revision"), files_metadata=True
        )
    except Exception as e:
        raise translate(e, what) from None
    allow = (r.get("files") or []) + opts.get("--include", [])
    ignore = opts.get("--exclude", [])
    siblings = [s for s in (info.siblings or []) if _wanted(s.rfilename, allow, ignore)]
    total = sum(s.size or 0 for s in siblings)
    ctx.report.totals(len(siblings), total or None)
    target = ctx.local_path(must_exist=False)
    staging = Staging(target, ctx.tag)
    stage = staging.prepare()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(ctx, stage, stop), daemon=True)
    watcher.start()
    try:
        snapshot_download(
            r["repo"],
            repo_type=r["repo_type"],
            revision=info.sha,
            local_dir=stage,
            allow_patterns=allow or None,
            ignore_patterns=ignore or None,
            token=ctx.secrets.get("token") or False,
            endpoint=r.get("endpoint") or None,
            max_workers=int(opts.get("--max-workers", ["8"])[-1]),
            force_download="--force-download" in opts,
            etag_timeout=float(opts.get("--etag-timeout", ["10"])[-1]),
        )
        # the library's resume metadata: not part of the data
        shutil.rmtree(stage / ".cache" / "huggingface", ignore_errors=True)
        with contextlib.suppress(OSError):
            (stage / ".cache").rmdir()
        staging.remove_escaping_links()
    except BaseException as e:
        stop.set()
        staging.abort()
        if isinstance(e, Exception):
            raise translate(e, what) from None
        raise
    stop.set()
    watcher.join()
    files, size = tree_size(stage)
    ctx.report.set(files, size)
    staging.commit()
    return {"revision": info.sha, "files": files, "bytes": size}


def _wanted(name: str, allow: list[str], ignore: list[str]) -> bool:
    if allow and not any(fnmatch.fnmatch(name, p) for p in allow):
        return False
    return not any(fnmatch.fnmatch(name, p) for p in ignore)


def _watch(ctx: Context, stage: Path, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        with contextlib.suppress(OSError):
            ctx.report.set(*tree_size(stage))


def _ensure_repo(api: Any, repo: str, repo_type: str, private: bool) -> None:
    """Create the repository when it is missing (as ``huggingface-cli upload`` does)."""
    from huggingface_hub import errors as hf_errors

    try:
        api.repo_info(repo, repo_type=repo_type)
        return
    except hf_errors.RepositoryNotFoundError:
        pass
    try:
        # exist_ok=False: its True branch mis-parses a non-huggingface.co endpoint on a 401
        api.create_repo(repo, repo_type=repo_type, private=private)
    except hf_errors.HfHubHTTPError as e:
        if getattr(e.response, "status_code", None) != 409:  # created meanwhile: fine
            raise


def upload(ctx: Context) -> dict[str, Any]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    r = ctx.remote
    what = f"{r['repo_type']} {r['repo']}"
    opts = ctx.options
    src = ctx.local_path(must_exist=True)
    allow, ignore = opts.get("--include", []), opts.get("--exclude", [])
    files = [(rel, size) for rel, size in local_files(src) if _wanted(rel, allow, ignore)]
    if not files:
        raise TransferError(
            f"nothing to upload under {ctx.local.get('path') or '/'!r}", "not-found"
        )
    ctx.report.totals(len(files), sum(s for _, s in files))
    base = r.get("path_in_repo") or ""
    api = _api(ctx)
    handles = []
    try:
        _ensure_repo(api, r["repo"], r["repo_type"], private="--private" in opts)
        ops: list[Any] = []
        for rel, _size in files:
            fobj = os.fdopen(open_below(src, rel), "rb")
            handles.append(fobj)
            ops.append(
                CommitOperationAdd(
                    path_in_repo=f"{base}/{rel}" if base else rel, path_or_fileobj=fobj
                )
            )
        for pattern in opts.get("--delete", []):
            existing = api.list_repo_files(
                r["repo"], repo_type=r["repo_type"], revision=r.get("revision")
            )
            keep = {op.path_in_repo for op in ops}
            ops += [
                CommitOperationDelete(path_in_repo=f)
                for f in existing
                if fnmatch.fnmatch(f, pattern)
                and f not in keep
                and (not base or f.startswith(base + "/"))
            ]
        info = api.create_commit(
            r["repo"],
            operations=ops,
            commit_message=r.get("commit_message") or "Upload files with fermi_jupyter",
            repo_type=r["repo_type"],
            revision=r.get("revision"),
            create_pr="--create-pr" in opts,
        )
    except Exception as e:
        raise translate(e, what) from None
    finally:
        for h in handles:
            h.close()
    ctx.report.set(len(files), sum(s for _, s in files))
    return {"revision": info.oid, "commit_url": info.commit_url, "files": len(files)}
