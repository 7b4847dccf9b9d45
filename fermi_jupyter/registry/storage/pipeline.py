"""An ordered parallel map over batches, with a bounded window.

Results come back in input order while at most ``2 * workers`` batches are in flight, so
memory stays flat on million-file trees. Items travel in batches because one future per
small file costs more in GIL hand-offs than hashing the file (measured: 4,000 files of 100 KB
hash in 0.45 s with a future each, 0.13 s in batches). Threads rather than processes: file
I/O and BLAKE3 release the GIL, and threads share the caller's open files and cancel event.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# one more thread than cores: while one waits on the disk or the journal, the others run
WORKERS = int(os.environ.get("FERMI_STORAGE_THREADS", "0")) or max(2, (os.cpu_count() or 2) + 1)
BATCH_FILES = 128
BATCH_BYTES = 16 << 20

_Outcome = tuple[list[R], BaseException | None]


class Pipeline(Generic[T, R]):
    """``run(items)`` yields ``(item, fn(item))`` in input order, computed on worker threads.

    If ``fn`` raises, ``run`` raises that exception after yielding every earlier result. After
    any failure, ``drain()`` yields the results that were computed anyway (queued batches are
    cancelled, running ones awaited): callers account for the work those items did (objects
    they stored) before cleaning up."""

    def __init__(
        self,
        fn: Callable[[T], R],
        *,
        workers: int = WORKERS,
        size_of: Callable[[T], int] | None = None,
    ):
        self._fn = fn
        self._size_of = size_of
        self._window = 2 * workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fermi-storage")
        self._pending: deque[tuple[list[T], Future[_Outcome[R]]]] = deque()
        self._current: Iterator[tuple[T, R]] | None = None

    def _run_batch(self, batch: list[T]) -> _Outcome[R]:
        out: list[R] = []
        fn = self._fn
        try:
            for item in batch:
                out.append(fn(item))
        except BaseException as e:  # reported in order, after the results before it
            return out, e
        return out, None

    def _batches(self, items: Iterable[T]) -> Iterator[list[T]]:
        batch: list[T] = []
        nbytes = 0
        size_of = self._size_of
        for item in items:
            batch.append(item)
            if size_of is not None:
                nbytes += size_of(item)
            if len(batch) >= BATCH_FILES or nbytes >= BATCH_BYTES:
                yield batch
                batch, nbytes = [], 0
        if batch:
            yield batch

    def _take(self) -> Iterator[tuple[T, R]]:
        batch, fut = self._pending.popleft()
        results, exc = fut.result()  # fewer results than items only with an exception
        self._current = zip(batch, results, strict=False)
        yield from self._current
        self._current = None
        if exc is not None:
            raise exc

    def run(self, items: Iterable[T]) -> Iterator[tuple[T, R]]:
        for batch in self._batches(items):
            self._pending.append((batch, self._pool.submit(self._run_batch, batch)))
            while len(self._pending) >= self._window:
                yield from self._take()
        while self._pending:
            yield from self._take()

    def drain(self) -> Iterator[tuple[T, R]]:
        """After a failure: the results computed but not yet consumed, errors ignored."""
        if self._current is not None:
            yield from self._current
            self._current = None
        for _batch, fut in self._pending:
            fut.cancel()
        while self._pending:
            batch, fut = self._pending.popleft()
            if fut.cancelled():
                continue
            results, _exc = fut.result()
            yield from zip(batch, results, strict=False)

    def close(self) -> None:
        for _batch, fut in self._pending:
            fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Pipeline[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
