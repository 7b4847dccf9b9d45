"""The Jupyter server extension: the registry, as seen from inside a user's server."""

from .app import FermiExtension


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "fermi_jupyter.server", "app": FermiExtension}]


__all__ = ["FermiExtension"]
