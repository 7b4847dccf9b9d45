"""Translations for strings people read: one domain, ``fermi_jupyter``, shared with the Lab
extension.

Catalogs are JupyterLab's Jed JSON files in ``fermi_jupyter/locale/<lang>/LC_MESSAGES/
fermi_jupyter.json`` (``{"": {metadata}, "English msgid": ["translation"], …}``). English is
the msgid itself. A message with parameters is written once with ``{name}`` placeholders:
``msg("{path} is a system folder", path=p)`` is a ``str`` (the English text, so it works
wherever a string does) that also remembers its msgid and parameters, so it can be rendered
in another language later — on the server (``Message.translate``) or in the browser
(``data-i18n`` attributes, see ``spawner/templates``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "fermi_jupyter"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "zh_CN")  # what we ship; English needs no catalog


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for ``lang`` (e.g. ``zh_CN``); empty for English or a missing file."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for key, value in data.items():
        if key and isinstance(value, list) and value and isinstance(value[0], str) and value[0]:
            out[key] = value[0]
    return out


def gettext(msgid: str, lang: str | None) -> str:
    return catalog(lang).get(msgid, msgid) if lang and lang != "en" else msgid


class Message(str):
    """English text that remembers how to say itself in another language."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        self = super().__new__(cls, msgid.format(**params) if params else msgid)
        self.msgid, self.params = msgid, params
        return self

    def translate(self, lang: str | None) -> str:
        return (
            gettext(self.msgid, lang).format(**self.params)
            if self.params
            else gettext(self.msgid, lang)
        )


def msg(msgid: str, **params: Any) -> Message:
    return Message(msgid, **params)


def translate(text: str, lang: str | None) -> str:
    """A ``Message`` in ``lang``; a plain string is looked up as it is."""
    if isinstance(text, Message):
        return text.translate(lang)
    return gettext(text, lang)


_TAG = re.compile(r"^([a-zA-Z]{1,8})(?:[-_]([a-zA-Z0-9]{1,8}))?")


def negotiate(accept_language: str | None) -> str:
    """The best shipped language for an ``Accept-Language`` header (``en`` if none fits)."""
    best: tuple[float, str] = (0.0, "en")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        m = _TAG.match(tag)
        if not m:
            continue
        lang = m.group(1).lower()
        choice = "zh_CN" if lang == "zh" else "en" if lang == "en" else None
        if choice and q > best[0]:
            best = (q, choice)
    return best[1]


# -- catalog files: one key per line, sorted, so branches adding strings merge cleanly ----------
def dump_catalog(entries: dict[str, str], lang: str = "zh_CN", version: str = "0.1.0") -> str:
    """The Jed JSON text of a catalog, in the one layout every branch writes."""
    meta = {
        "domain": DOMAIN,
        "language": lang.replace("_", "-"),
        "plural_forms": "nplurals=1; plural=0;",
        "version": version,
    }
    lines = [f'  "": {json.dumps(meta, ensure_ascii=False)}']
    for key in sorted(entries):
        value = json.dumps(entries[key], ensure_ascii=False)
        lines.append(f"  {json.dumps(key, ensure_ascii=False)}: [{value}]")
    return "{\n" + ",\n".join(lines) + "\n}\n"
