"""Long work with persistent state: registration, verification, restore."""

from .runner import JobRunner

__all__ = ["JobRunner"]
