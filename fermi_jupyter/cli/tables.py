"""Results people look at: plain text in terminals, HTML in notebooks, data for code."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass, field
from typing import Any


def human_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def width(text: str) -> int:
    """Terminal columns: CJK characters (dataset names, tags) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


STATUS_COLOURS = {
    "ready": "#2e7d32",
    "processing": "#1565c0",
    "pending": "#6d6d6d",
    "failed": "#c62828",
    "drifted": "#ef6c00",
    "cancelled": "#6d6d6d",
}


@dataclass
class Table:
    """Rows of dicts. ``str()`` aligns columns; notebooks render ``_repr_html_``."""

    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    empty: str = "nothing here"
    data: list[Any] = field(default_factory=list, repr=False)  # the typed objects behind rows
    raw: Any = field(default=None, repr=False)  # the whole answer, when it is more than rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.data or self.rows)

    def __getitem__(self, i: int) -> Any:
        return (self.data or self.rows)[i]

    def __str__(self) -> str:
        if not self.rows:
            return f"{self.title}: {self.empty}" if self.title else self.empty
        cells = [[str(r.get(c, "")) for c in self.columns] for r in self.rows]
        widths = [
            max(width(c), *(width(row[i]) for row in cells)) for i, c in enumerate(self.columns)
        ]
        out = [self.title] if self.title else []
        out.append("  ".join(_pad(c.upper(), w) for c, w in zip(self.columns, widths, strict=True)))
        out += ["  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join(line.rstrip() for line in out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        if not self.rows:
            return f"<div class='jp-fermi-empty'>{caption}<p>{html.escape(self.empty)}</p></div>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = []
        for r in self.rows:
            tds = []
            for c in self.columns:
                v = html.escape(str(r.get(c, "")))
                if c == "status" and r.get(c) in STATUS_COLOURS:
                    colour = STATUS_COLOURS[r[c]]
                    v = f"<span style='color:{colour};font-weight:600'>{v}</span>"
                tds.append(f"<td>{v}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        return (
            f"<table class='jp-fermi-table'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def to_json(self) -> Any:
        if self.raw is not None:
            return self.raw
        if not self.data:
            return self.rows
        return [d.to_json() if hasattr(d, "to_json") else getattr(d, "raw", d) for d in self.data]


@dataclass
class Done:
    """What a verb did: a sentence for people; for ``--json`` and code, the API's answer."""

    text: str
    raw: Any = None

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def to_json(self) -> Any:
        return self.raw if self.raw is not None else {"done": self.text}


class Record(dict):
    """A JSON object from the API with attribute access (``entry.name``) for code."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def raw(self) -> dict[str, Any]:
        return dict(self)

    def to_json(self) -> dict[str, Any]:
        return dict(self)
