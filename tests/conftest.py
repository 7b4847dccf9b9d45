"""Session fixtures: a real PostgreSQL server and real JupyterHub processes (one per backend)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .support.hub import Hub
from .support.postgres import PostgresServer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


def make_db_url(request: pytest.FixtureRequest, backend: str, home: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{home / (name + '.sqlite')}"
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.create_database(name)


@dataclass
class Users:
    """Hub users with tokens: alice and bob share team "vision", carol is in "audio",
    dave is in no team, root is a hub admin."""

    hub: Hub
    tokens: dict[str, str]

    def __getitem__(self, name: str) -> httpx.Client:
        return self.hub.client(self.tokens.get(name))


def storage_test_config(home: Path) -> str:
    """The registry's storage test seams: pause points (tests/robustness/test_symlink_races.py)
    and a small hard-link limit (test_identical_files.py); inert for every other test."""
    hooks = home / "storage-hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    env = {"FERMI_STORAGE_HOOKS": str(hooks), "FERMI_STORAGE_TEST_LINK_LIMIT": "100"}
    return f"\nregistry.setdefault('environment', {{}}).update({env!r})\n"


@pytest.fixture(scope="session", params=BACKENDS)
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    home = Path(tempfile.mkdtemp(prefix=f"fermi-hub-{request.param}-"))
    db_url = make_db_url(request, request.param, home, f"fermi_hub_{request.param}")
    h = Hub(home=home, db_url=db_url, extra_config=storage_test_config(home))
    h.backend = request.param  # type: ignore[attr-defined]
    try:
        h.start()
    except Exception:
        h.stop()
        raise
    yield h
    h.stop()
    h.cleanup()


@pytest.fixture(scope="session")
def users(hub: Hub) -> Users:
    tokens = {
        "alice": hub.create_user("alice", groups=("vision",)),
        "bob": hub.create_user("bob", groups=("vision",)),
        "carol": hub.create_user("carol", groups=("audio",)),
        "dave": hub.create_user("dave"),
        "root": hub.create_user("root", admin=True),
    }
    return Users(hub, tokens)
