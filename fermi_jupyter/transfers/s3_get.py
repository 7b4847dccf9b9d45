"""S3 downloads with obstore (Rust, async): the engine ``bench/transfer_bench.py`` chose.

Many small objects are fetched concurrently (``--transfers``, default 4 as rclone's; raise it
for far-away endpoints) by one event loop; objects above the multi-thread cut-off (rclone's
defaults: 250 MiB, up to 4 streams, one per cut-off's worth) as byte ranges at once, streamed
to their offsets. Every file is written through
:class:`~.staging.SafeTree` into the staging folder; keys that would leave the target are
skipped with a warning.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from . import s3 as s3mod
from .arguments import parse_size
from .context import Context
from .errors import TransferError
from .staging import SafeTree, Staging

CHUNK = 1024 * 1024


def store(ctx: Context) -> Any:
    from obstore.store import S3Store

    r = ctx.remote
    endpoint = r.get("endpoint") or None
    client: dict[str, Any] = {"connect_timeout": timedelta(seconds=10)}
    if endpoint and endpoint.startswith("http://"):
        client["allow_http"] = True
    kw: dict[str, Any] = {}
    if ctx.secrets.get("access_key_id"):
        kw.update(
            access_key_id=ctx.secrets["access_key_id"],
            secret_access_key=ctx.secrets.get("secret_access_key", ""),
        )
    else:
        kw["skip_signature"] = True
    return S3Store(
        r["bucket"],
        endpoint=endpoint,
        region=r.get("region") or "us-east-1",
        client_options=client,
        retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=20)},
        **kw,
    )


def translate(e: BaseException, what: str) -> TransferError:
    from obstore import exceptions as ox

    if isinstance(e, TransferError):
        return e
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    full = str(e)
    if isinstance(e, (ox.UnauthenticatedError, ox.PermissionDeniedError)) or any(
        code in full
        for code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403 Forbidden")
    ):
        return TransferError(f"S3 refused the credentials for {what}: {text}", "unauthorized")
    if (
        isinstance(e, (ox.NotFoundError, FileNotFoundError))
        or "NoSuchBucket" in full
        or "NoSuchKey" in full
    ):
        return TransferError(f"{what} does not exist: {text}", "not-found")
    if "error sending request" in full or "onnect" in full or "timed out" in full.lower():
        return TransferError(f"cannot reach the S3 endpoint for {what}: {text}", "unreachable")
    return TransferError(f"S3 download of {what} failed: {type(e).__name__}: {text}", "failed")


def _listing(ctx: Context, st: Any) -> list[tuple[str, str, int]]:
    import obstore
    from obstore import exceptions as ox

    key = ctx.remote["key"]
    if key and not key.endswith("/"):
        try:
            meta = obstore.head(st, key)
            return [(key.rsplit("/", 1)[-1], key, int(meta["size"]))]
        except (ox.NotFoundError, FileNotFoundError):
            pass
    prefix = key.rstrip("/") + "/" if key else ""
    try:
        objects = [
            (m["path"], int(m["size"]))
            for batch in obstore.list(st, prefix=prefix or None)
            for m in batch
        ]
    except ox.InvalidPathError:
        # a key obstore will not parse (e.g. with ".."): list with boto3, which takes any key
        return s3mod.listing(ctx, s3mod.client(ctx, 4))
    return s3mod.collect(ctx, objects, prefix)


async def _fetch_all(
    ctx: Context,
    st: Any,
    items: list[tuple[str, str, int]],
    tree: SafeTree,
    transfers: int,
    streams: int,
    cutoff: int,
) -> None:
    import obstore

    sem = asyncio.Semaphore(transfers)

    async def small(rel: str, key: str) -> None:
        async with sem:
            result = await obstore.get_async(st, key)
            fd = tree.open(rel)
            written = 0
            try:
                async for chunk in result.stream(min_chunk_size=CHUNK):
                    written += os.write(fd, memoryview(chunk))
            finally:
                os.close(fd)
            ctx.report.add(1, written)

    async def ranges(rel: str, key: str, size: int) -> None:
        fd = tree.open(rel, size)
        # as rclone: one stream per cut-off's worth of bytes, at least 2, at most --streams
        n = min(streams, max(2, size // cutoff))
        part = -(-size // n)

        async def one(start: int) -> None:
            end = min(size, start + part)
            result = await obstore.get_async(st, key, options={"range": (start, end)})
            offset = start
            async for chunk in result.stream(min_chunk_size=CHUNK):
                view = memoryview(chunk)
                os.pwrite(fd, view, offset)
                offset += len(view)
                ctx.report.add(0, len(view))
            if offset != end:
                raise TransferError(f"short read of {key!r}", "failed")

        try:
            await _all([one(s) for s in range(0, size, part)])
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        ctx.report.add(1, 0)

    await _all([small(rel, key) for rel, key, size in items if size < cutoff])
    for rel, key, size in items:
        if size >= cutoff:
            await ranges(rel, key, size)


async def _all(coros: list) -> None:  # type: ignore[type-arg]
    """Run all; on the first failure cancel the rest and raise it."""
    if not coros:
        return
    tasks = [asyncio.ensure_future(c) for c in coros]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for t in pending:
        t.cancel()
    for t in done:
        if t.exception():
            await asyncio.gather(*pending, return_exceptions=True)
            raise t.exception()  # type: ignore[misc]


def download(ctx: Context) -> dict[str, Any]:
    transfers = int(ctx.option("--transfers", "4") or 4)
    streams = int(ctx.option("--multi-thread-streams", "4") or 4)
    cutoff = parse_size(ctx.option("--multi-thread-cutoff", "250Mi") or "250Mi")
    what = ctx.remote["uri"]
    st = store(ctx)
    try:
        items = _listing(ctx, st)
    except Exception as e:
        raise translate(e, what) from None
    ctx.report.totals(len(items), sum(size for _, _, size in items))
    staging = Staging(ctx.local_path(must_exist=False), ctx.tag)
    tree = SafeTree(staging.prepare())
    try:
        asyncio.run(_fetch_all(ctx, st, items, tree, transfers, streams, cutoff))
    except BaseException as e:
        tree.close()
        staging.abort()
        if isinstance(e, Exception):
            raise translate(e, what) from None
        raise
    tree.close()
    keep = {rel for rel, _, _ in items} if ctx.spec["policy"]["sync"] else None
    deleted: list[str] = []
    staging.commit(keep, on_delete=deleted.append)
    if deleted:
        ctx.report.log(f"sync deleted {len(deleted)} file(s) the source does not have")
    return {"files": len(items), "bytes": sum(s for _, _, s in items), "deleted": len(deleted)}
