"""S3: boto3 (the engine chosen by ``bench/transfer_bench.py``), with our own thread pool.

Downloads list the prefix, skip keys that would leave the target (``..``, empty parts), and
write each object through :class:`~.staging.SafeTree`; objects above the multi-thread cut-off are
fetched as parallel byte ranges (rclone's defaults: 4 streams above 250 MiB). Uploads read files
opened relative to directory descriptors (no link followed) and use boto3's transfer manager
(multipart above the chunk size).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from .arguments import parse_size
from .context import Context
from .errors import TransferError
from .staging import DIR_FLAGS, SafeTree, Staging, safe_relpath

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


def _listing(ctx: Context, s3: Any) -> list[tuple[str, str, int]]:
    """(relative path, key, size) of what to fetch: the object itself, or all under the prefix."""
    bucket, key = ctx.remote["bucket"], ctx.remote["key"]
    what = ctx.remote["uri"]
    if key and not key.endswith("/"):
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            name = key.rsplit("/", 1)[-1]
            return [(name, key, int(head["ContentLength"]))]
        except Exception as e:
            err = translate(e, what)
            if err.reason != "not-found":
                raise err from None
    prefix = key.rstrip("/") + "/" if key else ""
    keep = _filters(ctx)
    items: list[tuple[str, str, int]] = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                k, size = obj["Key"], int(obj["Size"])
                if k.endswith("/") and size == 0:
                    continue  # a "folder" marker
                rel = safe_relpath(k[len(prefix) :])
                if rel is None:
                    ctx.warn(f"skipped key {k!r}: it would be written outside the target")
                    continue
                if keep(rel, size):
                    items.append((rel, k, size))
    except TransferError:
        raise
    except Exception as e:
        raise translate(e, what) from None
    if not items and not ctx.warnings:
        raise TransferError(f"nothing found at {what}", "not-found")
    return items


def download(ctx: Context) -> dict[str, Any]:
    transfers = int(ctx.option("--transfers", "16") or 16)
    streams = int(ctx.option("--multi-thread-streams", "4") or 4)
    cutoff = parse_size(ctx.option("--multi-thread-cutoff", "250Mi") or "250Mi")
    s3 = client(ctx, max(transfers, streams))
    items = _listing(ctx, s3)
    ctx.report.totals(len(items), sum(size for _, _, size in items))
    target = ctx.local_path(must_exist=False)
    staging = Staging(target, ctx.tag)
    tree = SafeTree(staging.prepare())
    bucket = ctx.remote["bucket"]
    lock = threading.Lock()
    try:
        small = [i for i in items if i[2] < cutoff]
        big = [i for i in items if i[2] >= cutoff]
        with ThreadPoolExecutor(transfers, thread_name_prefix="s3-get") as pool:
            run_all([pool.submit(_get, ctx, s3, bucket, r, k, n, tree, lock) for r, k, n in small])
        with ThreadPoolExecutor(streams, thread_name_prefix="s3-range") as pool:
            for rel, key, size in big:
                _get_ranges(ctx, s3, pool, bucket, rel, key, size, tree)
    except Exception as e:
        tree.close()
        staging.abort()
        raise translate(e, ctx.remote["uri"]) from None
    tree.close()
    keep = {rel for rel, _, _ in items} if ctx.spec["policy"]["sync"] else None
    deleted: list[str] = []
    staging.commit(keep, on_delete=deleted.append)
    if deleted:
        ctx.report.log(f"sync deleted {len(deleted)} file(s) the source does not have")
    return {"files": len(items), "bytes": sum(s for _, _, s in items), "deleted": len(deleted)}


def _get(
    ctx: Context,
    s3: Any,
    bucket: str,
    rel: str,
    key: str,
    size: int,
    tree: SafeTree,
    lock: threading.Lock,
) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with lock:
        fd = tree.open(rel)
    written = 0
    try:
        while chunk := body.read(READ):
            os.write(fd, chunk)
            written += len(chunk)
    finally:
        os.close(fd)
        body.close()
    ctx.report.add(1, written)


def _get_ranges(
    ctx: Context,
    s3: Any,
    pool: ThreadPoolExecutor,
    bucket: str,
    rel: str,
    key: str,
    size: int,
    tree: SafeTree,
) -> None:
    fd = tree.open(rel, size)
    part = max(8 * READ, -(-size // (pool._max_workers * 4)))  # a few parts per stream

    def fetch(start: int) -> None:
        end = min(size, start + part) - 1
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")["Body"]
        offset = start
        try:
            while chunk := body.read(READ):
                os.pwrite(fd, chunk, offset)
                offset += len(chunk)
                ctx.report.add(0, len(chunk))
        finally:
            body.close()
        if offset != end + 1:
            raise TransferError(f"short read of {key!r}", "failed")

    try:
        run_all([pool.submit(fetch, start) for start in range(0, size, part)])
        os.ftruncate(fd, size)
    finally:
        os.close(fd)
    ctx.report.add(1, 0)


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
