"""``%fermi`` / ``%%fermi``: the CLI's verbs inside IPython, returning objects for code.

``%load_ext fermi_jupyter`` registers them. In a notebook tables render as HTML and progress
as a widget; in a terminal IPython as text. Errors are one line, never a traceback.
"""

from __future__ import annotations

from typing import Any

from .core import FermiMagics
from .display import register_formatters


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(FermiMagics)
    register_formatters(ipython)


__all__ = ["FermiMagics", "load_ipython_extension"]
