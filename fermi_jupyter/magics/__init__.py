"""``%fermi`` / ``%%fermi``: the CLI's verbs inside IPython, returning objects for code.

``%load_ext fermi_jupyter`` registers them. In a notebook tables render as HTML and progress
as a widget; in a terminal IPython as text. Errors are one line, never a traceback.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..cli import run as run_cli
from ..cli.parser import UsageError
from ..client import FermiError
from ..mounts import MountError


@magics_class
class FermiMagics(Magics):
    @line_cell_magic
    def fermi(self, line: str, cell: str | None = None) -> Any:
        """Datasets and volumes from this server. Try: %fermi help

        %fermi mounts                 what is mounted here
        %fermi volumes                your volumes
        %fermi ls [PATH]              a folder (local, or VOLUME:path)
        %fermi datasets [QUERY]       datasets you can see
        %fermi versions NAME          a dataset's versions
        %fermi register PATH --name NAME [--wait]
        %fermi register PATH --version-of NAME [--wait]
        %fermi status NAME@N  |  %fermi verify NAME@N  |  %fermi restore NAME@N PATH

        As a cell magic, each line of the cell is one command; the last result is returned.
        """
        lines = [line] if cell is None else [ln for ln in cell.splitlines() if ln.strip()]
        result = None
        for text in lines:
            result = self._one(text)
            if isinstance(result, _Error):
                return None
        return result

    def _one(self, text: str) -> Any:
        try:
            argv = shlex.split(text)
            result = run_cli(argv or ["help"], notebook=_in_notebook(self.shell))
        except (UsageError, FermiError, MountError, ValueError) as e:
            print(f"fermi: {e}", file=sys.stderr)
            return _Error()
        if isinstance(result, str):
            print(result)
            return None
        return result


class _Error:
    pass


def _in_notebook(shell: Any) -> bool:
    return type(shell).__name__ == "ZMQInteractiveShell"


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(FermiMagics)
