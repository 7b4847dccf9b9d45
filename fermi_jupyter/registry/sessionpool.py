"""Database work off the event loop: a bounded thread pool that runs functions of a Session.

Handlers ``await pool.run(fn)``; ``fn(db)`` is ordinary synchronous code (the managers), the
same functions the job runner calls from its own threads. The event loop never waits on a
database round trip, and at most ``threads`` requests talk to the database at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class SessionPool:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        threads: int,
        read_engine: Engine | None = None,
        recycle: float = 1800.0,
    ):
        """``read_engine``: an engine in autocommit mode for GET requests on a database server
        (see ``db.make_engine(autocommit=True)``); each pool thread keeps one of its connections
        and replaces it after ``recycle`` seconds. Without one (SQLite), reads use
        ``sessions`` as writes do."""
        self.sessions = sessions
        self.read_engine = read_engine
        self.recycle = recycle
        self.threads = threads
        self._held = threading.local()
        self._open: set[Connection] = set()  # every thread's, to close at shutdown
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fermi-db")

    async def run(self, fn: Callable[[Session], T], *, read_only: bool = False) -> T:
        """``fn(session)`` on a pool thread. ``read_only`` work (GET requests) runs in
        autocommit mode, and a connection the database dropped (a restart) is replaced and
        ``fn`` runs once more."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.work, fn, read_only)

    def work(self, fn: Callable[[Session], T], read_only: bool = False) -> T:
        """``run``'s work, on the calling thread."""
        if read_only and self.read_engine is not None:
            return self._read(fn)
        try:
            with self.sessions() as db:
                return fn(db)
        except DBAPIError as e:
            # the pool hands out connections without a ping (pool_recycle keeps them fresh);
            # a restarted database invalidates the whole pool on the first error
            if not (read_only and e.connection_invalidated):
                raise
        with self.sessions() as db:
            return fn(db)

    def _read(self, fn: Callable[[Session], T]) -> T:
        """A read on this thread's own autocommit connection: one round trip a statement, and
        no pool check-out, reset and check-in around each request (on PostgreSQL that
        bookkeeping cost as much of the registry's CPU as the statement itself)."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                with Session(bind=conn, expire_on_commit=False) as db:
                    return fn(db)
            except DBAPIError as e:
                if not e.connection_invalidated or attempt == 2:
                    raise
                self._drop()  # the database restarted: a new connection, and once more
        raise AssertionError("unreachable")

    def _connection(self) -> Connection:
        held = self._held
        conn: Connection | None = getattr(held, "conn", None)
        if conn is not None and (conn.invalidated or time.monotonic() > held.until):
            self._drop()
            conn = None
        if conn is None:
            assert self.read_engine is not None
            conn = held.conn = self.read_engine.connect()
            held.until = time.monotonic() + self.recycle
            with self._lock:
                self._open.add(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._held, "conn", None)
        self._held.conn = None
        if conn is not None:
            self._close(conn)

    def _close(self, conn: Connection) -> None:
        with self._lock:
            self._open.discard(conn)
        with contextlib.suppress(Exception):  # a dead one may fail to; the pool forgets it
            conn.close()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.read_engine is not None:
            with self._lock:
                held = list(self._open)
            for conn in held:
                self._close(conn)
            self.read_engine.dispose()
