"""Writes the figures of a run into docs/benchmarks.md, between markers, keeping the prose."""

from __future__ import annotations

import datetime as dt

from .common import REPO, Figure, machine

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- figures:{size}:begin -->", "<!-- figures:{size}:end -->"


def table(
    size: str, figures: list[Figure], search_rows: list[tuple], block: str = "", where: str = ""
) -> str:
    today = dt.date.today().isoformat()
    lines = [
        BEGIN.format(size=block or size),
        f"_Measured {today} with `python -m bench{' --full' if size == 'full' else ''}` on "
        f"{machine()}{'; ' + where if where else ''}._",
        "",
        "| figure | ours | reference | ratio | target | |",
        "|---|---:|---|---:|---:|---|",
    ]
    for f in figures:
        target = f"≤ {f.target:g}x" if f.target is not None else ""
        lines.append(
            f"| {f.name} | {_value(f.ours, f.unit)} | {_value(f.reference, f.unit)} "
            f"({f.reference_name}) | {f.ratio:.2f}x | {target} | {f.verdict} |"
        )
    if search_rows:
        lines += [
            "",
            "| dataset list / search | backend | p95 | vs 50 rows by id | target |",
            "|---|---|---:|---:|---:|",
        ]
        for backend, case, ms, ratio in search_rows:
            ok = "" if case.startswith("reference") else ("ok" if ms < 50 else "MISSED")
            lines.append(f"| {case} | {backend} | {ms:.1f} ms | {ratio:.1f}x | < 50 ms {ok} |")
    lines.append(END.format(size=block or size))
    return "\n".join(lines)


def _value(v: float, unit: str) -> str:
    if unit == "B":
        return f"{v / 2**20:,.1f} MiB"
    return f"{v:,.3f} {unit}" if unit == "s" else f"{v:,.1f} {unit}"


def write_report(
    size: str, figures: list[Figure], search_rows: list[tuple], block: str = "", where: str = ""
) -> None:
    """Replace the table between the ``figures:<block>`` markers (``block`` defaults to the
    size), or append it as a new section."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    key = block or size
    block = table(size, figures, search_rows, key, where)
    begin, end = BEGIN.format(size=key), END.format(size=key)
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## Figures ({key})\n\n" + block + "\n"
    DOC.write_text(text)
    print(f"\nwrote {DOC.relative_to(REPO)}")
