"""Database work off the event loop: a bounded thread pool that runs functions of a Session.

Handlers ``await pool.run(fn)``; ``fn(db)`` is ordinary synchronous code (the managers), the
same functions the job runner calls from its own threads. The event loop never waits on a
database round trip, and at most ``threads`` requests talk to the database at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class SessionPool:
    def __init__(self, sessions: sessionmaker[Session], threads: int):
        self.sessions = sessions
        # reads run without BEGIN/ROLLBACK on a database server: one round trip a statement
        # instead of three. Not on SQLite, where there is no round trip to save, and where a
        # serving process reading in pysqlite's autocommit mode was seen to miss a version
        # another process had just committed (a 404 right after the 202: bench/e2e_bench.py)
        engine = sessions.kw["bind"]
        self.read_sessions = sessions
        if engine.dialect.name != "sqlite":
            self.read_sessions = sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fermi-db")

    async def run(self, fn: Callable[[Session], T], *, read_only: bool = False) -> T:
        """``fn(session)`` on a pool thread. ``read_only`` work (GET requests) runs in
        autocommit mode, and a connection the database dropped (a restart) is replaced and
        ``fn`` runs once more."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._work, fn, read_only)

    def _work(self, fn: Callable[[Session], T], read_only: bool) -> T:
        sessions = self.read_sessions if read_only else self.sessions
        try:
            with sessions() as db:
                return fn(db)
        except DBAPIError as e:
            # the pool hands out connections without a ping (pool_recycle keeps them fresh);
            # a restarted database invalidates the whole pool on the first error
            if not (read_only and e.connection_invalidated):
                raise
        with sessions() as db:
            return fn(db)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
