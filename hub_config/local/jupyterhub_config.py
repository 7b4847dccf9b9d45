"""JupyterHub on one machine: the registry as a hub-managed service, SQLite, local storage.

Everything lives under ``$FERMI_HOME`` (default ``./.work/local``). Used by the README's run
command and, with a few additions, by the test suite.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

home = Path(os.environ.get("FERMI_HOME", ".work/local")).resolve()
home.mkdir(parents=True, exist_ok=True)
storage_root = Path(os.environ.get("FERMI_STORAGE_ROOT", home / "storage"))
registry_port = int(os.environ.get("FERMI_REGISTRY_PORT", "10101"))
registry_db = os.environ.get("FERMI_REGISTRY_DB_URL", f"sqlite:///{home / 'registry.sqlite'}")

c.JupyterHub.ip = os.environ.get("FERMI_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("FERMI_HUB_PORT", "8000"))
c.JupyterHub.hub_port = int(os.environ.get("FERMI_HUB_API_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{home / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(home / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(home / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(home / "jupyterhub-proxy.pid")
if os.environ.get("FERMI_PROXY_API_PORT"):
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['FERMI_PROXY_API_PORT']}"
chp = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "configurable-http-proxy"
if chp.exists():
    c.ConfigurableHTTPProxy.command = [str(chp)]

# Try-it-now login: any of the demo users with the shared password (see docs/admin/local.md).
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("FERMI_DEMO_PASSWORD", "fermi")
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}
c.JupyterHub.load_groups = {
    "vision": {"users": ["alice", "bob"]},
    "audio": {"users": ["carol"]},
}

# Servers: LocalFermiSpawner runs each in a bubblewrap sandbox with the mounts chosen on the
# spawn form (datasets read-only, volumes read-write); see docs/admin/local.md.
from fermi_jupyter.spawner.hub_handlers import setup_hub  # noqa: E402
from fermi_jupyter.spawner.local import LocalFermiSpawner  # noqa: E402

registry_api = f"http://127.0.0.1:{registry_port}/services/fermi-registry/api/v1"
repo = Path(__file__).resolve().parents[2]
c.JupyterHub.spawner_class = LocalFermiSpawner
if os.environ.get("FERMI_LOCAL_SPAWNER") == "simple":  # the benchmarks' reference, no sandbox
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
    c.SimpleLocalProcessSpawner.home_dir_template = str(home / "homes" / "{username}")
    c.SimpleLocalProcessSpawner.args = ["--allow-root"]  # the hub runs as root here
if os.environ.get("FERMI_SPAWNER") == "kubernetes":  # the Kubernetes form, previewed locally
    from fermi_jupyter.spawner.kube import FermiSpawner  # (starting pods needs a cluster)

    c.JupyterHub.spawner_class = FermiSpawner
    profiles = os.environ.get("FERMI_PROFILES", str(repo / "kubespawner_profiles"))
    c.FermiSpawner.profiles_dir = profiles
    c.FermiSpawner.hub_registry_url = registry_api
    c.FermiSpawner.start_timeout = 10
    c.FermiSpawner.k8s_api_request_timeout = 3
    c.FermiSpawner.k8s_api_request_retry_timeout = 6
c.LocalFermiSpawner.storage_root = str(storage_root)
c.LocalFermiSpawner.hub_registry_url = registry_api
c.LocalFermiSpawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.LocalFermiSpawner.home_dir_template = str(home / "homes" / "{username}")
c.LocalFermiSpawner.extra_read_only = [str(repo)]  # the package, when installed from a checkout
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 60
setup_hub(c, registry_api)

c.JupyterHub.services = [
    {
        "name": "fermi-registry",
        "display": True,
        "info": {"description": "Datasets and volumes"},
        "url": f"http://127.0.0.1:{registry_port}",
        "command": [
            sys.executable,
            "-m",
            "fermi_jupyter.registry",
            f"--storage-root={storage_root}",
            f"--db-url={registry_db}",
        ],
        "oauth_no_confirm": True,
    },
]
c.JupyterHub.load_roles = [
    # every user (and every user's server token) may call the registry
    {"name": "user", "scopes": ["self", "access:services!service=fermi-registry"]},
    {"name": "server", "scopes": ["users:activity!user", "access:services!service=fermi-registry"]},
    # the registry reads users and groups to learn who is an admin and in which team
    {"name": "fermi-registry", "services": ["fermi-registry"],
     "scopes": ["read:users", "read:groups"]},
]  # fmt: skip
