"""Kubernetes hub configuration, as plain Python (the same as values.yaml's extraConfig).

Use it with a hub you configure yourself instead of Zero to JupyterHub.
"""

import os
from pathlib import Path

from fermi_jupyter.spawner.hub_handlers import setup_hub
from fermi_jupyter.spawner.kube import FermiSpawner
from fermi_jupyter.spawner.profiles import load_profiles

c = get_config()  # noqa: F821

registry_api = os.environ.get(
    "FERMI_REGISTRY_URL", "http://fermi-registry:10101/services/fermi-registry/api/v1"
)
c.JupyterHub.spawner_class = FermiSpawner
c.FermiSpawner.profiles_dir = os.environ.get("FERMI_PROFILES", "/etc/fermi/profiles")
# fail fast: a malformed profile stops the hub here, naming the file and the field
load_profiles(Path(c.FermiSpawner.profiles_dir))
c.FermiSpawner.storage_pvc = "fermi-storage"
c.FermiSpawner.hub_registry_url = registry_api
c.FermiSpawner.server_registry_url = registry_api
c.FermiSpawner.zone_label = "topology.kubernetes.io/zone"
c.JupyterHub.db_url = os.environ.get("JUPYTERHUB_DB_URL", "sqlite:///jupyterhub.sqlite")
c.JupyterHub.services = [
    {
        "name": "fermi-registry",
        "url": "http://fermi-registry:10101",
        "api_token": os.environ["FERMI_REGISTRY_TOKEN"],
        "oauth_no_confirm": True,
    }
]
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", "access:services!service=fermi-registry"]},
    {"name": "server", "scopes": ["users:activity!user", "access:services!service=fermi-registry"]},
    {
        "name": "fermi-registry",
        "services": ["fermi-registry"],
        "scopes": ["read:users", "read:groups"],
    },
]
setup_hub(c, registry_api)
