"""Rendering the spawn form's sections from Jinja templates (``templates/``), overridable like
KubeSpawner's: a folder in ``form_template_paths`` holding ``storage.html`` or
``profiles.html`` wins over the packaged one. Script and style are static files the hub serves
at ``{hub}/fermi/static/``; strings are marked for the browser to translate (``data-i18n``)
with the ``fermi_jupyter`` catalog.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..i18n import Message
from .choices import DatasetChoice, StorageChoices, VolumeChoice

STATIC = Path(__file__).parent / "static"
VOLUME_TYPES = [
    ("ssd", "training data, many small files"),
    ("hdd", "large archives"),
    ("shared", "a team works on it together"),
]
LOCK = Markup(
    '<svg width="11" height="12" viewBox="0 0 11 12" aria-hidden="true">'
    '<rect x="1" y="5" width="9" height="7" rx="1" fill="currentColor"/>'
    '<path d="M3 5V3.5a2.5 2.5 0 0 1 5 0V5" stroke="currentColor" fill="none" stroke-width="1.5"/>'
    "</svg>"
)
UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


def human(n: int | None) -> str:
    """A size people read: ``400 KiB``, ``1.5 GiB``, ``0 B``; ``—`` when unknown."""
    if n is None:
        return "—"
    size, unit = float(n), 0
    while size >= 1024 and unit < len(UNITS) - 1:
        size, unit = size / 1024, unit + 1
    if unit == 0:
        return f"{int(size)} B"
    return f"{size:.0f} {UNITS[unit]}" if size >= 100 else f"{size:.1f} {UNITS[unit]}"


def t(text: str) -> Markup:
    """A label the browser may translate."""
    return Markup('<span data-i18n="{0}">{0}</span>').format(text)


def m(message: Any) -> Markup:
    """A server-side message; a ``Message`` carries its msgid and parameters along."""
    if isinstance(message, Message):
        args = json.dumps({k: str(v) for k, v in message.params.items()}, ensure_ascii=False)
        return Markup('<span data-i18n="{}" data-i18n-args="{}">{}</span>').format(
            message.msgid, args, str(message)
        )
    return Markup("<span>{}</span>").format(str(message))


@cache
def _environment(paths: tuple[str, ...]) -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(list(paths)), PackageLoader("fermi_jupyter.spawner", "templates")]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.globals.update(t=t, m=m, human=human, lock=LOCK, escape=escape)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return env


def template(name: str, paths: Iterable[str] = ()) -> Any:
    return _environment(tuple(paths)).get_template(name)


@cache
def static_version() -> str:
    """Changes when a static file does, so browsers never run a stale script."""
    h = hashlib.sha256()
    for f in sorted(STATIC.rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:10]


def urls(hub_prefix: str) -> dict[str, str]:
    base = hub_prefix.rstrip("/") + "/fermi"
    return {
        "static_url": f"{base}/static",
        "search_url": f"{base}/datasets",
        "locale_url": f"{base}/locale",
        "static_version": static_version(),
    }


def volume_label(vol: Mapping[str, Any]) -> str:
    usage = (vol.get("usage") or {}).get("bytes")
    parts = [
        str(vol.get("name")),
        str(vol.get("type")),
        f"{human(usage)} / {human(vol.get('capacity_bytes'))}",
    ]
    if vol.get("zone"):
        parts.append(str(vol["zone"]))
    return " · ".join(parts)


def render_storage(
    *,
    hub_prefix: str,
    volumes: list[dict],
    prefill: StorageChoices,
    errors: Mapping[str, Any],
    notices: list[Any],
    registry_down: str | None,
    template_paths: Iterable[str] = (),
) -> str:
    """The "Storage mounts" section. ``registry_down`` (a reason) replaces the pickers with a
    message: the user can still start without mounts."""
    rows = ("datasets.", "volumes.", "new_volume")
    general = [v for k, v in errors.items() if not k.startswith(rows)]
    return template("storage.html", template_paths).render(
        **urls(hub_prefix),
        notices=notices,
        errors=dict(errors),
        general_errors=general,
        registry_down=registry_down,
        dataset_rows=prefill.datasets or [DatasetChoice("")],
        volume_rows=prefill.volumes or [VolumeChoice("")],
        new_volume=prefill.new_volume,
        volumes=[{"id": v["id"], "label": volume_label(v)} for v in volumes],
        volume_types=VOLUME_TYPES,
    )
