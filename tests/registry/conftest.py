"""The fast tier: the registry in-process with an injected hub auth, on SQLite and PostgreSQL.

Most authorization and validation cases run here, in milliseconds a request; the real-hub
tests (``hub``, ``users``) keep the end-to-end promises.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import BACKENDS, make_db_url
from ..support.registry import InProcessRegistry


@pytest.fixture(scope="module", params=BACKENDS)
def reg(request: pytest.FixtureRequest) -> Iterator[InProcessRegistry]:
    """One in-process registry (its own database and storage root) per test module."""
    home = Path(tempfile.mkdtemp(prefix=f"fermi-reg-{request.param}-"))
    name = f"fast_{request.module.__name__.rsplit('.', 1)[-1]}_{request.param}"[:60]
    r = InProcessRegistry(home, make_db_url(request, request.param, home, name)).start()
    r.backend = request.param  # type: ignore[attr-defined]
    yield r
    r.stop()
    shutil.rmtree(home, ignore_errors=True)
