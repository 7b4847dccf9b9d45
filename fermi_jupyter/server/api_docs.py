"""Renders ``docs/reference/extension-api.md`` from the OpenAPI document, so the reference
cannot drift from the contract. ``python -m fermi_jupyter.server.api_docs --write`` after
``openapi_build --write``; ``tests/server/test_contract.py`` fails while they differ."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..workspace.reasons import Reason
from .openapi_build import build

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "extension-api.md"

INTRO = """\
# Server extension API

Every user's Jupyter server serves the datasets and volumes it can reach under
`{base_url}api/fermi/`; the JupyterLab sidebar, the `%fermi` magics and the `fermi` CLI do the
same things through the same workspace manager. The machine-readable contract is
[`fermi_jupyter/server/openapi.json`](../../fermi_jupyter/server/openapi.json) (also served at
`{base_url}api/fermi/openapi.json`); this page is generated from it
(`python -m fermi_jupyter.server.api_docs --write`).

- **Who it acts as.** Requests are authenticated like every Jupyter server API (a token, or the
  Lab session cookie with `_xsrf`). Every registry call is made with the server's own
  `JUPYTERHUB_API_TOKEN`, so the extension acts as the server's owner and never as anyone else.
- **Errors** are always JSON `{"message": "<a sentence>", "reason": "<code>"}` — never an HTML
  page or a traceback, also for unknown URLs under `api/fermi/`. Request bodies are checked
  against their schema first (`invalid-parameter`, naming the field). 4xx: the request cannot
  be done as sent; 502: the registry cannot be reached; 503: no registry is configured, or
  this server's mount plan cannot be read.
- **Lists** are cursor-paginated: pass `next_cursor` back as `cursor` until it is `null`.
- **Local paths.** `path` in a registration or a restore is a folder of this server inside a
  mounted volume (`/workspace/augmented`, or relative to the server root); it is mapped to the
  volume and its sub path here. With `volume_id` it is relative to that volume instead.
- **Events** (`GET events`): server-sent events `version` and `resync`, with `id:`s to resume
  from (`Last-Event-ID`). One upstream connection to the registry serves every tab of the
  server; a tab that comes back gets what it missed from a 2,000-event buffer, or a `resync`
  (refetch what you show) when that cannot be covered. The stream does not count as activity
  for the idle culler and is not buffered by proxies (`X-Accel-Buffering: no`).
"""


def _params(op: dict[str, Any]) -> str:
    names = []
    for p in op.get("parameters", []):
        if p["in"] == "query":
            names.append(f"`{p['name']}`" + ("*" if p.get("required") else ""))
    return ", ".join(names)


def _body(op: dict[str, Any]) -> str:
    try:
        name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    except KeyError:
        return ""
    return f"`{name.rsplit('/', 1)[-1]}`"


def _answer(op: dict[str, Any]) -> str:
    for status, response in op["responses"].items():
        if status.startswith("2"):
            ref = (
                response.get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            shape = f" `{ref.rsplit('/', 1)[-1]}`" if ref else ""
            return f"{status}{shape}"
    return ""


def _schema_fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    fields = [f"`{k}`" + ("*" if k in required else "") for k in schema.get("properties", {})]
    return ", ".join(fields)


def render() -> str:
    doc = build()
    out = [INTRO, "## Routes\n", "Under `{base_url}api/fermi`. `*`: required.\n"]
    out.append("| method and path | does | query | body | answers |")
    out.append("|---|---|---|---|---|")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            summary = op["summary"].replace("|", "\\|")
            out.append(
                f"| `{method.upper()} {path}` | {summary} | {_params(op)} | {_body(op)} | "
                f"{_answer(op)} |"
            )
    out += ["", "## Shapes\n", "`*`: always present (answers) or required (requests).\n"]
    out.append("| shape | fields |")
    out.append("|---|---|")
    for name, schema in doc["components"]["schemas"].items():
        if schema.get("type") == "object":
            out.append(f"| `{name}` | {_schema_fields(schema)} |")
        elif "enum" in schema:
            out.append(f"| `{name}` | one of " + ", ".join(f"`{v}`" for v in schema["enum"]) + " |")
    out += ["", "## Reasons\n", "| reason | status | means |", "|---|---|---|"]
    out += [f"| `{r.value}` | {r.status} | {r.description} |" for r in Reason]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv:
        PAGE.write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
