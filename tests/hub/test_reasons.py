"""Reasons of the hub endpoints: the registry-down mapping against a port where nothing
listens, and every reason raised listed in errors.py and in the reference docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from fermi_jupyter.hub.errors import REASONS

REPO = Path(__file__).resolve().parents[2]


async def test_a_registry_that_does_not_answer_is_a_listed_502():
    """The endpoints' own mapping, against a port where nothing listens (and an unlisted
    reason cannot even be raised)."""
    from fermi_jupyter.hub.errors import HubError
    from fermi_jupyter.hub.handlers import DatasetSearchHandler
    from fermi_jupyter.spawner.hubapi import RegistryAsUser

    class User:
        name = "alice"

        def new_api_token(self, **kwargs):
            return "any"

    handler = object.__new__(DatasetSearchHandler)
    handler.registry = lambda: RegistryAsUser("http://127.0.0.1:9/api/v1", User())
    with pytest.raises(HubError) as e:
        await handler.ask("/datasets")
    assert e.value.status_code == 502 and e.value.fermi_reason == "registry-down"
    with pytest.raises(ValueError, match="unlisted reason"):
        HubError("made-up", "x")


def raised_reasons() -> set[str]:
    """Every reason string passed to HubError in the hub package."""
    found = set()
    for path in (REPO / "fermi_jupyter" / "hub").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "HubError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    for path in (REPO / "fermi_jupyter" / "hub").glob("handlers.py"):
        found |= set(re.findall(r'reason = "([a-z-]+)"', path.read_text()))
    return found


def test_every_reason_raised_is_listed_and_documented():
    raised = raised_reasons()
    assert raised and raised <= set(REASONS)
    doc = (REPO / "docs" / "reference" / "hub-endpoints.md").read_text()
    for reason, (status, _) in REASONS.items():
        assert f"`{reason}`" in doc and str(status) in doc, reason


def test_the_options_reference_is_current():
    """docs/reference/hub-options.md is generated from the traits' help: regenerate it with
    ``python -m fermi_jupyter.hub.reference > docs/reference/hub-options.md``."""
    from fermi_jupyter.hub.reference import render

    committed = (REPO / "docs" / "reference" / "hub-options.md").read_text()
    assert committed == render()
    assert "`server_user`" in committed and "`storage_pvc`" in committed
