"""One translation domain, fermi_jupyter: the zh_CN catalog holds every string the spawn form
and the hub show (labels in the templates, messages raised on the hub), in the one file
layout all branches write, and server-side messages translate with their parameters."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from fermi_jupyter import i18n
from fermi_jupyter.i18n import Message, catalog, dump_catalog, msg, negotiate

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "fermi_jupyter" / "locale" / "zh_CN" / "LC_MESSAGES" / "fermi_jupyter.json"
SOURCES = [
    *(REPO / "fermi_jupyter" / "spawner").rglob("*.py"),
    *(REPO / "fermi_jupyter" / "hub").rglob("*.py"),
    REPO / "fermi_jupyter" / "domain" / "mount_rules.py",
]


def shown_strings() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "msg"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    for path in (REPO / "fermi_jupyter" / "spawner" / "templates").glob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)  # not comments
        found |= set(re.findall(r'\bt\("([^"]+)"\)', text))
        found |= set(re.findall(r'data-i18n(?:-placeholder)?="([^"{]+)"', text))
    script = (REPO / "fermi_jupyter" / "spawner" / "static" / "form.js").read_text()
    found |= set(re.findall(r'\btr\("([^"]+)"\)', script))
    from fermi_jupyter.spawner.form import VOLUME_TYPES

    return found | {hint for _, hint in VOLUME_TYPES}


def test_every_string_shown_is_translated():
    zh = catalog("zh_CN")
    missing = sorted(s for s in shown_strings() if s not in zh)
    assert missing == []
    # placeholders survive translation: a {name} in English is a {name} in Chinese
    for key in shown_strings():
        assert set(re.findall(r"\{(\w+)\}", key)) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_the_catalog_is_jed_json_in_the_one_layout():
    text = CATALOG.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data[""]["domain"] == "fermi_jupyter" and data[""]["language"] == "zh-CN"
    assert data[""]["plural_forms"] == "nplurals=1; plural=0;"
    entries = {k: v[0] for k, v in data.items() if k}
    assert text == dump_catalog(entries, version=data[""]["version"])  # sorted, one per line


def test_messages_translate_with_their_parameters():
    m = msg("{path} is used twice", path="/data")
    assert m == "/data is used twice" and isinstance(m, str)
    assert m.translate("zh_CN") == "/data 被使用了两次"
    assert m.translate("en") == "/data is used twice"
    assert i18n.translate("Storage mounts", "zh_CN") == "存储挂载"
    assert i18n.translate("a string nobody translated", "zh_CN") == "a string nobody translated"
    assert isinstance(m, Message) and m.params == {"path": "/data"}


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh;q=0.7", "zh_CN"),
        ("fr-FR", "en"),
        ("", "en"),
        (None, "en"),
        ("zh-TW", "zh_CN"),
        ("*;q=x, zh", "zh_CN"),
    ],
)
def test_the_language_a_browser_asks_for(header, lang):
    assert negotiate(header) == lang
