"""fermi_jupyter: datasets and volumes for JupyterHub."""

__version__ = "0.1.0.dev0"


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """``%load_ext fermi_jupyter``: imported lazily so the package stays light."""
    from .magics import load_ipython_extension as load

    load(ipython)


def _jupyter_labextension_paths() -> list[dict]:
    """The prebuilt JupyterLab extension (labextension/, built into fermi_jupyter/labextension)."""
    return [{"src": "labextension", "dest": "fermi-jupyter"}]


def _jupyter_server_extension_points() -> list[dict]:
    """Enabled by installing the package (jupyter-config/…/fermi_jupyter.json)."""
    from .server import FermiExtension

    return [{"module": "fermi_jupyter.server", "app": FermiExtension}]
