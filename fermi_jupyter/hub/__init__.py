"""fermi_jupyter on the hub: ``setup(c, …)`` from ``jupyterhub_config.py`` (``configure.py``)
and the hub's own endpoints under ``{hub}/fermi/`` (``handlers.py``)."""

from __future__ import annotations

from .configure import setup

__all__ = ["setup"]
