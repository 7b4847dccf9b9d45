"""The extension's contract: the committed OpenAPI document is the generated one, every reason
the notebook side raises is listed, every route is documented, and the event stream is not
activity and resumes with a resync. (Schemathesis against the document: test_fuzz.py.)"""

from __future__ import annotations

import ast
import contextlib
import json
from pathlib import Path

import fermi_jupyter
from fermi_jupyter.server import openapi_build
from fermi_jupyter.workspace.reasons import Reason

PKG = Path(fermi_jupyter.__file__).parent
NOTEBOOK_SIDE = ["server", "workspace", "client", "cli", "magics", "mounts.py"]


def test_the_committed_document_is_the_generated_one():
    assert openapi_build.OPENAPI.read_text(encoding="utf-8") == openapi_build.render(), (
        "run: python -m fermi_jupyter.server.openapi_build --write"
    )


def test_the_reference_page_is_generated_from_the_document():
    from fermi_jupyter.server import api_docs

    page = Path(__file__).resolve().parents[2] / "docs" / "reference" / "extension-api.md"
    assert page.read_text(encoding="utf-8") == api_docs.render(), (
        "run: python -m fermi_jupyter.server.api_docs --write"
    )


def _raised_reasons() -> set[str]:
    """Every reason written in the notebook-side code: reason="…" and Reason.member."""
    found: set[str] = set()
    files = [p for part in NOTEBOOK_SIDE for p in sorted((PKG / part).rglob("*.py"))] + (
        [PKG / "mounts.py"]
    )
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "reason"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.add(node.value.value)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Reason"
            ):
                found.add(Reason[node.attr].value)
    return found - {"timeout"}  # the CLI's own exit-code marker, never sent over HTTP


def test_every_reason_raised_is_listed_in_the_document():
    raised = _raised_reasons()
    assert len(raised) >= 15
    doc = json.loads(openapi_build.OPENAPI.read_text())
    listed = set(doc["components"]["schemas"]["Reason"]["enum"])
    assert raised <= listed, raised - listed


def test_every_route_is_documented_and_every_documented_route_exists():
    import re

    from fermi_jupyter.server.handlers import ROUTES

    doc = json.loads(openapi_build.OPENAPI.read_text())
    samples = {
        "ref": "a%2Fb",
        "selector": "3",
        "job_id": "7",
        "volume_id": "vol-1",
        "name": "p",
        "transfer_id": "tr-1",
    }
    covered = set()
    for path in doc["paths"]:
        url = re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], path.lstrip("/"))
        matches = [p for p, _ in ROUTES if re.fullmatch(p, url)]
        assert len(matches) == 1, path
        covered.add(matches[0])
    assert covered == {p for p, _ in ROUTES}


def test_the_event_stream_is_not_activity(jp_fetch, jp_asyncio_loop, jp_serverapp, jp_http_port,
                                           jp_base_url, jp_auth_header, server):  # fmt: skip
    import asyncio

    from tornado.httpclient import AsyncHTTPClient

    settings = jp_serverapp.web_app.settings
    chunks: list[bytes] = []

    async def scenario() -> None:
        await jp_fetch("api", "fermi", "info")
        before = settings["api_last_activity"]
        url = f"http://localhost:{jp_http_port}{jp_base_url}api/fermi/events"
        stream = AsyncHTTPClient().fetch(
            url, headers=jp_auth_header, request_timeout=2, streaming_callback=chunks.append,
            raise_error=False,
        )  # fmt: skip
        await asyncio.sleep(1)
        with contextlib.suppress(Exception):  # the timeout that ends the endless stream
            await stream
        assert settings["api_last_activity"] == before

    jp_asyncio_loop.run_until_complete(scenario())
    text = b"".join(chunks).decode()
    assert text.startswith("retry:")


def test_resume_with_last_event_id_gets_a_resync_when_replay_is_not_confirmed(
    jp_fetch, jp_asyncio_loop, jp_http_port, jp_base_url, jp_auth_header, server
):
    import asyncio

    from tornado.httpclient import AsyncHTTPClient

    chunks: list[bytes] = []

    async def scenario() -> None:
        url = f"http://localhost:{jp_http_port}{jp_base_url}api/fermi/events?last_event_id=999999"
        with contextlib.suppress(Exception):  # the timeout that ends the endless stream
            await AsyncHTTPClient().fetch(
                url, headers=jp_auth_header, request_timeout=2, streaming_callback=chunks.append,
                raise_error=False,
            )  # fmt: skip
        await asyncio.sleep(0)

    jp_asyncio_loop.run_until_complete(scenario())
    text = b"".join(chunks).decode()
    assert "event: resync" in text, text
    data = json.loads(text.split("event: resync\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["reason"] in ("replay-unavailable", "registry-restarted")
