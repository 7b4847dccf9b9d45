"""Who is asking: always built from what JupyterHub says about a token or cookie."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """A JupyterHub user (or service) as the registry sees it.

    ``groups`` are JupyterHub groups, which the product calls teams; ``admin`` is the hub's
    admin flag. Nothing here ever comes from a request header or body.
    """

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    kind: str = "user"

    def in_team(self, team: str | None) -> bool:
        return bool(team) and team in self.groups
