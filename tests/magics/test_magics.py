"""``%fermi`` in a real IPython shell, against the real registry."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from fermi_jupyter.cli.tables import Table
from fermi_jupyter.client import Version
from fermi_jupyter.magics.core import FermiMagicsError

from ..support.trees import independent_digest, make_tree


@pytest.fixture
def ip(server, monkeypatch):
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(server.workspace)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "fermi_jupyter")
    yield shell
    magics = shell.magics_manager.registry["FermiMagics"]
    for name in ("registry_url", "progress", "wait_timeout", "raise_errors"):
        magics.traits()[name].set(magics, magics.traits()[name].default_value)


def test_every_verb_returns_something_to_use(ip, server, capsys):
    mounts = ip.run_line_magic("fermi", "mounts")
    assert isinstance(mounts, Table) and [m.kind for m in mounts] == ["dataset", "volume"]
    assert "<table" in mounts._repr_html_() and "read-only" in str(mounts)
    vols = ip.run_line_magic("fermi", "volumes")
    assert server.volume["id"] in [v.id for v in vols]
    listing = ip.run_line_magic("fermi", "ls raw")
    assert "part-000/" in str(listing)
    found = ip.run_line_magic("fermi", "datasets cli-source")
    assert [d.name for d in found] == ["cli-source"]
    versions = ip.run_line_magic("fermi", "versions cli-source")
    assert versions[0].status == "ready" and "ready" in versions._repr_html_()
    status = ip.run_line_magic("fermi", "status cli-source@1")
    assert isinstance(status, Version) and status.status == "ready"


def test_the_workflow_loop_from_a_notebook(ip, server, capsys):
    out = server.workspace / "magic-out"
    make_tree(out, 15, 600, seed=41)
    v = ip.run_line_magic(
        "fermi", "register magic-out --name magic-augmented --wait -m 'from magics'"
    )
    assert isinstance(v, Version) and v.status == "ready"
    assert v.digest == independent_digest(out)[0]
    assert v.parents == [f"{server.dataset['id']}@1"]
    job = ip.run_line_magic("fermi", "verify magic-augmented@1")
    assert job.result["ok"] is True
    job = ip.run_line_magic("fermi", "restore magic-augmented@latest magic-restored")
    assert job.state == "done" and (server.workspace / "magic-restored").is_dir()
    # the cell form runs each line and returns the last result
    last = ip.run_cell_magic("fermi", "", "mounts\nversions magic-augmented\n")
    assert isinstance(last, Table) and last[0].number == 1


def test_errors_are_one_line_not_a_traceback(ip, server, capsys):
    assert ip.run_line_magic("fermi", f"register {server.dataset_mount} --name x") is None
    err = capsys.readouterr().err
    assert "read-only dataset mount" in err and "Traceback" not in err
    assert ip.run_line_magic("fermi", "status nope@3") is None
    assert "no dataset" in capsys.readouterr().err
    assert ip.run_line_magic("fermi", "register raw") is None
    assert "--name" in capsys.readouterr().err
    assert ip.run_line_magic("fermi", "frobnicate") is None
    assert "invalid choice" in capsys.readouterr().err


def test_help(ip, capsys):
    assert ip.run_line_magic("fermi", "help") is None
    assert "register PATH --name NAME" in capsys.readouterr().out
    doc = ip.find_line_magic("fermi").__doc__
    assert "%fermi register PATH --name NAME" in doc


def test_more_verbs_and_options(ip, server, capsys):
    listing = ip.run_line_magic("fermi", "ls cli-work:raw")
    assert "part-000" in [e.name for e in listing]
    out = server.workspace / "magic-ref"
    make_tree(out, 5, 300, seed=42)
    v1 = ip.run_line_magic("fermi", "register magic-ref --name magic-ref --type text --wait")
    (out / "new.txt").write_text("two")
    v2 = ip.run_line_magic(
        "fermi", "register magic-ref --version-of magic-ref --mode reference --wait"
    )
    assert (v2.dataset_id, v2.number, v2.mode, v2.status) == (
        v1.dataset_id,
        2,
        "reference",
        "ready",
    )
    assert "100%" in capsys.readouterr().err  # the progress bar ran to the end
    assert ip.run_line_magic("fermi", "datasets no-such-thing-anywhere") is not None
    assert "no dataset matches" in str(ip.run_line_magic("fermi", "datasets no-such-thing"))


def test_versions_and_jobs_display_as_html_and_text(ip, server):
    v = ip.run_line_magic("fermi", "status cli-source@1")
    data, _ = ip.display_formatter.format(v)
    assert "cli-source@1" in data["text/plain"] and "ready" in data["text/plain"]
    assert "jp-fermi-version" in data["text/html"] and "#2e7d32" in data["text/html"]
    job = ip.run_line_magic("fermi", "verify cli-source@1")
    data, _ = ip.display_formatter.format(job)
    assert "intact" in data["text/plain"] and "intact" in data["text/html"]


def test_configuration_through_traitlets(ip, server, capsys):
    ip.run_line_magic("config", "FermiMagics.registry_url = 'http://127.0.0.1:9/api/v1'")
    assert ip.run_line_magic("fermi", "datasets") is None
    assert "cannot reach the registry at http://127.0.0.1:9" in capsys.readouterr().err
    ip.run_line_magic("config", "FermiMagics.raise_errors = True")
    with pytest.raises(FermiMagicsError, match="cannot reach the registry"):
        ip.run_line_magic("fermi", "datasets")
    ip.run_line_magic("config", "FermiMagics.registry_url = ''")
    ip.run_line_magic("config", "FermiMagics.raise_errors = False")
    ip.run_line_magic("config", "FermiMagics.progress = False")
    ip.run_line_magic("config", "FermiMagics.wait_timeout = 0.001")
    out = server.workspace / "magic-slow"
    make_tree(out, 600, 2000, seed=43, dirs=20)
    assert ip.run_line_magic("fermi", "register magic-slow --name magic-slow --wait") is None
    err = capsys.readouterr().err
    assert "still" in err and "fermi status magic-slow@1" in err and "%|" not in err


def test_question_mark_shows_how(ip, capsys):
    ip.run_cell("%fermi?")
    out = capsys.readouterr().out
    assert "%fermi register PATH --name NAME" in out and "FermiMagics" in out
