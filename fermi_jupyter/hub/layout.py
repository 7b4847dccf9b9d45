"""Where a local hub keeps things (``FERMI_HOME``), and who may reach what.

::

    FERMI_HOME/            0711  (default /var/lib/fermi-jupyter as root, else
                                 ~/.local/state/fermi-jupyter): nothing here is ever bound
      hub/                 0700  cookie secret, jupyterhub.sqlite, registry.sqlite, pid files
      storage/             0711  the registry's storage root: volumes/, datasets/
      homes/<user>/        0700  each user's persistent home, owned by the servers' user

Servers see their own home and their mounts, bound one by one; the hub's private folder is
unreadable to the servers' user even outside a sandbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalLayout:
    home: Path

    @staticmethod
    def default_home() -> Path:
        """Out of any checkout: the system's state folder as root, the user's otherwise."""
        if os.geteuid() == 0:
            return Path("/var/lib/fermi-jupyter")
        state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
        return Path(state) / "fermi-jupyter"

    @property
    def state(self) -> Path:
        return self.home / "hub"

    @property
    def storage(self) -> Path:
        return self.home / "storage"

    @property
    def homes(self) -> Path:
        return self.home / "homes"

    def create(self) -> LocalLayout:
        home = self.home.resolve()
        for path, mode in ((home, 0o711), (home / "hub", 0o700), (home / "storage", 0o711),
                           (home / "homes", 0o711)):  # fmt: skip
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, mode)
        return LocalLayout(home)
