"""Job transactions that survive a database blip.

A PostgreSQL restart or failover kills every open connection; SQLite can say "database is
locked" under load. ``pool_pre_ping`` only protects new checkouts, not a session already holding
a dead connection, so each try runs in a *fresh* session: the failed one is closed (its
connection discarded) and the function runs again from its first read. Functions passed here
must therefore be safe to run twice — they re-read what they change and return early when an
earlier try already committed (a commit can succeed on the server and still fail on the way
back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger(__name__)
T = TypeVar("T")


def retryable(e: BaseException) -> bool:
    """A lost or busy database, or another process changed the job first: try again."""
    if isinstance(e, StaleDataError | OperationalError):
        return True
    return isinstance(e, DBAPIError) and bool(e.connection_invalidated)


def transaction(
    sessions: sessionmaker[Session],
    fn: Callable[[Session], T],
    *,
    what: str,
    seconds: float = 60.0,
    first_delay: float = 0.1,
) -> T:
    """Run ``fn(db)`` and commit, in a new session per try, for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    delay = first_delay
    tries = 0
    while True:
        tries += 1
        db = sessions()
        try:
            out = fn(db)
            db.commit()
            if tries > 1:
                log.info("%s: done after %d tries", what, tries)
            return out
        except Exception as e:
            if not retryable(e) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: %s; trying again in %.1fs", what, _short(e), delay)
        finally:
            _close(db)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _close(db: Session) -> None:
    try:
        db.close()
    except Exception:  # closing a session whose connection died may itself fail
        log.debug("closing a failed session", exc_info=True)


def _short(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig or e).strip().splitlines()
    return f"{type(orig or e).__name__}: {text[0] if text else ''}"
