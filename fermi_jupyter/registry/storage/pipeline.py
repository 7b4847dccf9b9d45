"""An ordered parallel map with a bounded window: results come back in input order while at
most ``window`` items are in flight, so memory stays flat on million-file trees."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = max(4, (__import__("os").cpu_count() or 2) * 2)  # I/O bound: more threads than cores


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int = WORKERS, window: int = 512
) -> Iterator[tuple[T, R]]:
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fermi-io") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) >= window:
                    head, fut = pending.popleft()
                    yield head, fut.result()
            while pending:
                head, fut = pending.popleft()
                yield head, fut.result()
        finally:
            for _, fut in pending:
                fut.cancel()
