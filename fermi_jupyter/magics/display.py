"""How a returned Version or Job looks: an HTML card in notebooks, a few lines in terminals.

Registered as IPython formatters, so the objects returned stay the client's own types.
"""

from __future__ import annotations

import html
from typing import Any

from ..cli import describe
from ..cli.tables import STATUS_COLOURS
from ..client import Job, Version


def _chip(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#6d6d6d")
    return f"<span style='color:{colour};font-weight:600'>{html.escape(status)}</span>"


def version_html(v: Version) -> str:
    lines = describe(v).splitlines()
    title = html.escape(v.label)
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k.strip())}</th>"
        f"<td style='text-align:left'>{html.escape(val.strip())}</td></tr>"
        for k, _, val in (ln.partition(":") for ln in lines[1:])
    )
    bar = ""
    if v.status == "processing" and v.progress.fraction is not None:
        pct = round(100 * v.progress.fraction)
        bar = f"<progress max='100' value='{pct}'></progress> {pct}%"
    return (
        f"<div class='jp-fermi-version'><b>{title}</b> {_chip(v.status)} "
        f"<small>({html.escape(v.mode)}, {html.escape(v.ref)})</small>{bar}"
        f"<table class='jp-fermi-table'>{rows}</table></div>"
    )


def job_html(job: Job) -> str:
    ok = job.state == "done" and (job.kind != "verify" or (job.result or {}).get("ok"))
    status = "ready" if ok else ("drifted" if job.state == "done" else "failed")
    return f"<div class='jp-fermi-job'>{_chip(status)} {html.escape(describe(job))}</div>"


def _text(obj: Any, p: Any, cycle: bool) -> None:
    p.text(describe(obj))


def register_formatters(ipython: Any) -> None:
    formatters = ipython.display_formatter.formatters
    formatters["text/html"].for_type(Version, version_html)
    formatters["text/html"].for_type(Job, job_html)
    formatters["text/plain"].for_type(Version, _text)
    formatters["text/plain"].for_type(Job, _text)
