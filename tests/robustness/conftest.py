"""The robustness tier: faults against real processes — kill -9, SIGTERM, a PostgreSQL
restarted with ``pg_ctl``, a hub restarting its registry — never a mock.

One hub gives identity to everything here. It runs one managed registry (for the test of the
hub restarting it) and knows one external registry per database backend, which the tests start,
kill and start again themselves (tests/support/registry_process.py). PostgreSQL is a server of
its own, since tests restart it.

For a new fault test: take ``registry`` (a running ``RegistryProcess`` on SQLite and on
PostgreSQL: ``.client(alice)``, ``.kill()``, ``.terminate()``, ``.start()``, ``.storage_root``)
and hold a job where the fault must land with a pause point (``registry.arm("copying")``,
``registry.wait_paused("copying", job_id)``; fermi_jupyter/registry/jobs/pause.py). Leave the
registry running and its points disarmed: the next test gets the same process.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fermi_jupyter.registry.storage.gc import rmtree_force

from ..conftest import BACKENDS
from ..support.hub import Hub
from ..support.ports import free_port
from ..support.postgres import PostgresServer
from ..support.registry_process import (
    RegistryProcess,
    close_forker,
    external_registry_config,
    stop_hub,
)


@pytest.fixture(scope="package", autouse=True)
def _fork_server() -> Iterator[None]:
    yield
    close_forker()  # the registries' fork server, once this tier is done


@pytest.fixture(scope="package")
def fault_pg() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def fault_hub() -> Iterator[Hub]:
    home = Path(tempfile.mkdtemp(prefix="fermi-faults-hub-"))
    externals = {b: (f"fermi-faults-{b}", free_port(), secrets.token_hex(16)) for b in BACKENDS}
    pause = home / "pause"
    pause.mkdir()
    extra = "".join(external_registry_config(*spec) for spec in externals.values())
    extra += f"registry['command'].append('--RegistryApp.job_pause_dir={pause}')\n"
    hub = Hub(
        home=home,
        db_url=f"sqlite:///{home / 'registry.sqlite'}",
        second_registry=False,
        extra_config=extra,
    )
    hub.externals = externals  # type: ignore[attr-defined]
    hub.pause_dir = pause  # type: ignore[attr-defined]
    try:
        hub.start()
    except Exception:
        stop_hub(hub)
        raise
    yield hub
    stop_hub(hub)
    hub.cleanup()


@pytest.fixture(scope="package")
def alice(fault_hub: Hub) -> str:
    """A hub token of a plain user."""
    return fault_hub.create_user("alice")


@pytest.fixture(scope="package", params=BACKENDS)
def registry(request: pytest.FixtureRequest, fault_hub: Hub) -> Iterator[RegistryProcess]:
    """A registry process of our own on SQLite or on the PostgreSQL server ``fault_pg``."""
    backend = request.param
    home = Path(tempfile.mkdtemp(prefix=f"fermi-faults-{backend}-"))
    if backend == "sqlite":
        db_url = f"sqlite:///{home / 'registry.sqlite'}"
    else:
        db_url = request.getfixturevalue("fault_pg").create_database("fermi_faults")
    name, port, token = fault_hub.externals[backend]  # type: ignore[attr-defined]
    reg = RegistryProcess(fault_hub, home, db_url, name, port, token)
    reg.backend = backend  # type: ignore[attr-defined]
    reg.start()
    yield reg
    reg.stop()
    rmtree_force(home)  # versions are read-only trees
