"""Kubernetes hub configuration, as plain Python (the same as values.yaml's extraConfig).

Use it with a hub you configure yourself instead of Zero to JupyterHub.
"""

import os

from fermi_jupyter.hub import setup

c = get_config()  # noqa: F821

c.JupyterHub.db_url = os.environ.get("JUPYTERHUB_DB_URL", "sqlite:///jupyterhub.sqlite")
setup(
    c,
    "kubernetes",
    registry_url=os.environ.get(
        "FERMI_REGISTRY_URL", "http://fermi-registry:10101/services/fermi-registry/api/v1"
    ),
    service={"url": "http://fermi-registry:10101", "api_token": os.environ["FERMI_REGISTRY_TOKEN"]},
    profiles_dir=os.environ.get("FERMI_PROFILES", "/etc/fermi/profiles"),
)
c.FermiSpawner.storage_pvc = "fermi-storage"
