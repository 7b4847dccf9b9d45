"""fermi_jupyter: datasets and volumes for JupyterHub."""

__version__ = "0.1.0.dev0"
