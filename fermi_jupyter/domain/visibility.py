"""Visibility levels and the read/write rules every registry query applies."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from .identity import Identity


class Visibility(str, Enum):
    private = "private"  # the owner (and admins)
    team = "team"  # members of the dataset's team (a JupyterHub group)
    org = "org"  # every hub user
    public = "public"  # every hub user, and the public catalog

    @classmethod
    def parse(cls, value: str) -> Visibility:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(v.value for v in cls)
            raise ValueError(f"visibility must be one of {allowed}, not {value!r}") from None


class Owned(Protocol):
    owner: str
    team: str | None
    visibility: str


def can_read(who: Identity, obj: Owned) -> bool:
    """May ``who`` see ``obj`` (a dataset or volume record)?"""
    if who.admin or obj.owner == who.name:
        return True
    vis = obj.visibility
    if vis in (Visibility.org.value, Visibility.public.value):
        return who.kind == "user" or who.admin
    if vis == Visibility.team.value:
        return who.in_team(obj.team)
    return False


def can_write(who: Identity, obj: Owned) -> bool:
    """May ``who`` change or delete ``obj``? Owners and admins only; teams read."""
    return who.admin or obj.owner == who.name


def can_use_volume(who: Identity, obj: Owned) -> bool:
    """Volumes are private to their owner unless shared with a team (read-write for members)."""
    return who.admin or obj.owner == who.name or who.in_team(obj.team)
