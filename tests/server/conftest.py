"""pytest-jupyter's server fixtures, scoped to this folder, plus the user-server set-up."""

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403

from ..cli.conftest import server  # noqa: F401


@pytest.fixture
def jp_server_config(server, monkeypatch):  # noqa: F811
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    return {
        "ServerApp": {
            "jpserver_extensions": {"fermi_jupyter": True},
            "allow_unauthenticated_access": False,
        }
    }
