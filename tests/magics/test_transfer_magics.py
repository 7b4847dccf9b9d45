"""``%fermi import`` / ``%fermi export`` / ``%fermi transfers`` in a real IPython shell."""

from __future__ import annotations

import pytest

from fermi_jupyter.cli.tables import Table
from fermi_jupyter.client import Transfer

from ..support.git_server import make_repo
from ..transfers.conftest import git_server  # noqa: F401 (fixture)
from .test_magics import ip  # noqa: F401 (fixture)

sqlite_only = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


@sqlite_only
def test_import_and_export_from_a_notebook(ip, server, git_server):  # noqa: F811
    make_repo(git_server.root, "magic-repo", {"m.txt": "m\n"})
    t = ip.run_line_magic("fermi", f"import {git_server.url('magic-repo')} magic-code --wait")
    assert isinstance(t, Transfer) and t.state == "complete" and len(t.result["revision"]) == 40
    assert (server.workspace / "magic-code" / "magic-repo" / "m.txt").read_text() == "m\n"
    # push it back under another name: a new branch of the same remote
    t = ip.run_line_magic(
        "fermi", f"export magic-code {git_server.url('magic-repo')} --ref from-lab --wait"
    )
    assert t.state == "complete" and t.result["ref"] == "from-lab"
    listed = ip.run_line_magic("fermi", "transfers")
    assert isinstance(listed, Table) and "complete" in str(listed)
    assert "<table" in listed._repr_html_()
