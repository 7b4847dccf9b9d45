"""The admin's options reference, generated from the traits' own help strings, so the docs
never drift from the code: ``python -m fermi_jupyter.hub.reference > docs/reference/hub-options.md``
(a test checks the committed file is current).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from traitlets import HasTraits, TraitType, Undefined
from traitlets.traitlets import DefaultHandler

HEADER = """# Hub options reference

Generated from the code by `python -m fermi_jupyter.hub.reference` — do not edit by hand.
Set these in `jupyterhub_config.py` after `fermi_jupyter.hub.setup(c, …)`, which fills in the
usual ones (see [one machine](../admin/local.md) and [Kubernetes](../admin/kubernetes.md)).
Options of KubeSpawner and JupyterHub's `Spawner` keep their own meaning and are documented
there.
"""


def _classes() -> list[type[HasTraits]]:
    from ..spawner.kube import FermiSpawner
    from ..spawner.local import LocalFermiSpawner

    return [LocalFermiSpawner, FermiSpawner]


def _ours(cls: type, trait: TraitType) -> bool:
    owner = getattr(trait, "this_class", None)
    return bool(owner and owner.__module__.startswith("fermi_jupyter."))


def _computed(cls: type, name: str) -> bool:
    """An ``@default`` method makes this trait's default (on the class or a mixin)."""
    return any(
        isinstance(member, DefaultHandler) and member.trait_name == name
        for klass in cls.__mro__
        for member in vars(klass).values()
    )


def _default(cls: type, name: str, trait: TraitType) -> str:
    if _computed(cls, name):
        return "(computed, see the meaning)"
    value = trait.default_value
    if value is Undefined:
        return "—"
    if value == "":
        return "(none)"
    return f"`{value!r}`"


def render() -> str:
    out = [HEADER]
    from .configure import setup

    setup_doc = inspect.getdoc(setup) or ""
    out.append("## `fermi_jupyter.hub.setup(c, spawner, …)`\n")
    out.append("```\n" + setup_doc.strip() + "\n```\n")
    for cls in _classes():
        out.append(f"## `c.{cls.__name__}`\n")
        out.append("| option | type | default | meaning |")
        out.append("|---|---|---|---|")
        traits: dict[str, Any] = cls.class_traits(config=True)
        for name in sorted(traits):
            trait = traits[name]
            if not _ours(cls, trait):
                continue
            help_text = " ".join((trait.help or "").split()).replace("|", "\\|")
            kind, default = type(trait).__name__, _default(cls, name, trait)
            out.append(f"| `{name}` | {kind} | {default} | {help_text} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
