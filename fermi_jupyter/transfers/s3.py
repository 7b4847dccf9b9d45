"""S3 with boto3: error classification, listing any key, filters, and uploads.

Downloads are in :mod:`.s3_get` (obstore, chosen by ``bench/transfer_bench.py``); boto3 lists
when obstore cannot (it refuses whole listings that hold a key with ``..``). Uploads read files
opened relative to directory descriptors (no link followed) and use boto3's transfer manager
(multipart above the chunk size).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from .arguments import parse_size
from .context import Context
from .errors import TransferError
from .staging import DIR_FLAGS, safe_relpath

READ = 1024 * 1024
UNAUTHORIZED = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "403",
    "401",
}
NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}


def client(ctx: Context, pool: int) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    r = ctx.remote
    signed = bool(ctx.secrets.get("access_key_id"))
    config = Config(
        signature_version=None if signed else UNSIGNED,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=pool + 4,
        connect_timeout=10,
        read_timeout=120,
        s3={"addressing_style": "path"} if r.get("endpoint") else {},
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=r.get("endpoint") or None,
        region_name=r.get("region") or "us-east-1",
        aws_access_key_id=ctx.secrets.get("access_key_id") if signed else None,
        aws_secret_access_key=ctx.secrets.get("secret_access_key") if signed else None,
        config=config,
    )


def translate(e: Exception, what: str) -> TransferError:
    """A botocore error as a readable, classified message (never with a credential in it)."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(e, TransferError):
        return e
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = str(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = err.get("Message") or code
        if code in UNAUTHORIZED or status in ("401", "403"):
            return TransferError(
                f"S3 refused the credentials for {what}: {code} ({message})", "unauthorized"
            )
        if code in NOT_FOUND or status == "404":
            return TransferError(f"{what} does not exist ({code})", "not-found")
        return TransferError(f"S3 error on {what}: {code} ({message})", "remote-error")
    if isinstance(e, NoCredentialsError):
        return TransferError("no S3 credentials", "unauthorized")
    if isinstance(e, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        return TransferError(f"cannot reach the S3 endpoint: {e}", "unreachable")
    return TransferError(f"S3 transfer of {what} failed: {type(e).__name__}: {e}", "failed")


def run_all(futures: list[Future]) -> None:
    """Wait for all; on the first failure cancel what has not started and raise it."""
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for f in pending:
        f.cancel()
    for f in done:
        f.result()
    for f in pending:
        if not f.cancelled():
            f.result()


def _filters(ctx: Context):  # type: ignore[no-untyped-def]
    opts = ctx.options
    include = [v for v in opts.get("--include", [])]
    exclude = [v for v in opts.get("--exclude", [])]
    max_size = parse_size(opts["--max-size"][-1]) if "--max-size" in opts else None
    min_size = parse_size(opts["--min-size"][-1]) if "--min-size" in opts else None

    def keep(rel: str, size: int) -> bool:
        if include and not any(fnmatch.fnmatchcase(rel, p) for p in include):
            return False
        if any(fnmatch.fnmatchcase(rel, p) for p in exclude):
            return False
        if max_size is not None and size > max_size:
            return False
        return not (min_size is not None and size < min_size)

    return keep


def collect(
    ctx: Context, objects: Iterable[tuple[str, int]], prefix: str
) -> list[tuple[str, str, int]]:
    """(relative path, key, size) of the objects to fetch: keys that would leave the target are
    skipped with a warning, folder markers ignored, the include/exclude/size filters applied."""
    keep = _filters(ctx)
    items: list[tuple[str, str, int]] = []
    for k, size in objects:
        if k.endswith("/") and size == 0:
            continue  # a "folder" marker
        rel = safe_relpath(k[len(prefix) :])
        if rel is None:
            ctx.warn(f"skipped key {k!r}: it would be written outside the target")
            continue
        if keep(rel, size):
            items.append((rel, k, size))
    if not items and not ctx.warnings:
        raise TransferError(f"nothing found at {ctx.remote['uri']}", "not-found")
    return items


def listing(ctx: Context, s3: Any) -> list[tuple[str, str, int]]:
    """The object itself, or everything under the prefix (boto3: any key, even ``..``)."""
    bucket, key = ctx.remote["bucket"], ctx.remote["key"]
    what = ctx.remote["uri"]
    if key and not key.endswith("/"):
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            return [(key.rsplit("/", 1)[-1], key, int(head["ContentLength"]))]
        except Exception as e:
            err = translate(e, what)
            if err.reason != "not-found":
                raise err from None
    prefix = key.rstrip("/") + "/" if key else ""

    def objects() -> Iterator[tuple[str, int]]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"], int(obj["Size"])

    try:
        return collect(ctx, objects(), prefix)
    except TransferError:
        raise
    except Exception as e:
        raise translate(e, what) from None


def local_files(src: Path) -> list[tuple[str, int]]:
    """Regular files below ``src`` (or ``src`` itself), walked without following links."""
    st = os.lstat(src)
    if stat.S_ISREG(st.st_mode):
        return [(src.name, st.st_size)]
    out: list[tuple[str, int]] = []
    for dirpath, _dirs, files, dirfd in os.fwalk(src):
        rel_dir = os.path.relpath(dirpath, src)
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                fst = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                if stat.S_ISREG(fst.st_mode):
                    out.append((os.path.normpath(os.path.join(rel_dir, name)), fst.st_size))
    return sorted(out)


def open_below(src: Path, rel: str) -> int:
    """Open ``src/rel`` for reading without following a link at any level."""
    if os.path.basename(src) == rel and stat.S_ISREG(os.lstat(src).st_mode):
        return os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fd = os.open(src, DIR_FLAGS)
    try:
        parts = rel.split("/")
        for part in parts[:-1]:
            nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)


def upload(ctx: Context) -> dict[str, Any]:
    from boto3.s3.transfer import TransferConfig

    transfers = int(ctx.option("--transfers", "8") or 8)
    chunk = parse_size(ctx.option("--s3-chunk-size", "16Mi") or "16Mi")
    concurrency = int(ctx.option("--s3-upload-concurrency", "4") or 4)
    src = ctx.local_path(must_exist=True)
    keep = _filters(ctx)
    files = [(rel, size) for rel, size in local_files(src) if keep(rel, size)]
    ctx.report.totals(len(files), sum(s for _, s in files))
    s3 = client(ctx, transfers * concurrency)
    bucket, prefix = ctx.remote["bucket"], ctx.remote["key"]
    if not ctx.remote.get("no_check_bucket"):
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception as e:
            raise translate(e, f"bucket {bucket!r}") from None
    config = TransferConfig(
        multipart_threshold=chunk,
        multipart_chunksize=chunk,
        max_concurrency=concurrency,
        use_threads=concurrency > 1,
    )
    base = prefix.rstrip("/") + "/" if prefix else ""

    def put(rel: str, size: int) -> None:
        fd = open_below(src, rel)
        with os.fdopen(fd, "rb") as f:
            s3.upload_fileobj(f, bucket, base + rel, Config=config)
        ctx.report.add(1, size)

    try:
        with ThreadPoolExecutor(transfers, thread_name_prefix="s3-put") as pool:
            run_all([pool.submit(put, rel, size) for rel, size in files])
    except Exception as e:
        raise translate(e, ctx.remote["uri"]) from None
    return {"files": len(files), "bytes": sum(s for _, s in files)}
