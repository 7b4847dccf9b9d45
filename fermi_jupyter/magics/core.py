"""The ``FermiMagics`` class: one ``%fermi`` entry dispatching to the CLI's verbs."""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Float, Unicode

from ..cli import run as run_cli
from ..cli.parser import UsageError
from ..client import FermiError
from ..workspace.sync import Workspace

ERRORS = (UsageError, FermiError, ValueError)  # ValueError: unbalanced quotes in the line


class FermiMagicsError(Exception):
    """Raised instead of printed when ``c.FermiMagics.raise_errors = True``."""


@magics_class
class FermiMagics(Magics):
    registry_url = Unicode(
        help="Registry API URL, e.g. http://hub:8000/services/fermi-registry/api/v1. "
        "Empty (the default): $FERMI_REGISTRY_URL as set by the spawner, read at each call. "
        "Calls are always made with this server's own $JUPYTERHUB_API_TOKEN."
    ).tag(config=True)
    progress = Bool(
        True,
        help="Show a progress bar while `register --wait`, `verify` and `restore` run. "
        "e.g. c.FermiMagics.progress = False for quiet, unattended notebooks.",
    ).tag(config=True)
    wait_timeout = Float(
        0,
        help="Seconds to wait for `register --wait`, `verify` and `restore` before giving up "
        "(the work goes on in the registry); 0 waits as long as it takes. "
        "e.g. c.FermiMagics.wait_timeout = 3600. `--timeout` on one command wins.",
    ).tag(config=True)
    raise_errors = Bool(
        False,
        help="Raise FermiMagicsError instead of printing a one-line error and returning None, "
        "so that 'Run all' stops at a failed step. e.g. c.FermiMagics.raise_errors = True",
    ).tag(config=True)

    @line_cell_magic
    def fermi(self, line: str, cell: str | None = None) -> Any:
        """Datasets and volumes from this server. Try: %fermi help

        %fermi mounts                 what is mounted here
        %fermi volumes                your volumes
        %fermi ls [PATH]              a folder (local, or VOLUME:path)
        %fermi datasets [QUERY]       datasets you can see
        %fermi versions NAME          a dataset's versions
        %fermi register PATH --name NAME [--type T] [--mode snapshot|reference] [--wait]
        %fermi register PATH --version-of NAME [--wait]
        %fermi status NAME@N  |  %fermi verify NAME@N  |  %fermi restore NAME@N PATH
        %fermi edit NAME --visibility team --team vision --tag 清洗
        %fermi alias NAME@N production  |  %fermi unalias NAME production
        %fermi diff NAME@1 NAME@2  |  %fermi lineage NAME@N  |  %fermi cancel NAME@N
        %fermi delete NAME@N  |  %fermi delete NAME --dataset
        %fermi jobs  |  %fermi volume create NAME --capacity 50Gi  |  %fermi usage VOLUME

        Every verb returns an object for code: a table (iterate it for Volume, Dataset or
        Version objects), a Version, or a Job. E.g.
            v = %fermi register /workspace/augmented --name imagenet-aug --wait
            v.status, v.files, v.parents

        As a cell magic, each line of the cell is one command; the last result is returned.
        Settings: %config FermiMagics (registry_url, progress, wait_timeout, raise_errors).
        """
        lines = [line] if cell is None else [ln for ln in cell.splitlines() if ln.strip()]
        result = None
        for text in lines:
            result = self._one(text)
            if isinstance(result, _Failed):
                return None
        return result

    def workspace(self) -> Workspace:
        """One workspace (one registry client) for the session, rebuilt when the URL changes."""
        url = self.registry_url or os.environ.get("FERMI_REGISTRY_URL") or ""
        token = os.environ.get("JUPYTERHUB_API_TOKEN") or ""
        ws = getattr(self, "_workspace", None)
        if ws is None or self._workspace_key != (url, token):
            if ws is not None:
                ws.close()
            self._workspace = Workspace(url or None, token or None)
            self._workspace_key = (url, token)
        return self._workspace

    def _one(self, text: str) -> Any:
        try:
            argv = shlex.split(text)
            result = run_cli(
                argv or ["help"],
                notebook=_in_notebook(self.shell),
                progress=self.progress,
                timeout=self.wait_timeout or None,
                workspace=self.workspace(),
            )
        except ERRORS as e:
            if self.raise_errors:
                raise FermiMagicsError(str(e)) from None
            print(f"fermi: {e}", file=sys.stderr)
            return _Failed()
        if isinstance(result, str):  # help text
            print(result)
            return None
        return result


class _Failed:
    pass


def _in_notebook(shell: Any) -> bool:
    return type(shell).__name__ == "ZMQInteractiveShell"
