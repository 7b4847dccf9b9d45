"""JupyterHub on one machine: the registry as a hub-managed service, SQLite, local storage,
servers in bubblewrap sandboxes as the unprivileged user ``fermi-server``.

Everything lives under ``$FERMI_HOME`` — by default ``/var/lib/fermi-jupyter`` (as root) or
``~/.local/state/fermi-jupyter``, never inside the checkout (see docs/admin/local.md).
"""

import os
import secrets
import sys
from pathlib import Path

from fermi_jupyter.hub import setup

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)
repo = Path(__file__).resolve().parents[2]

c.JupyterHub.ip = os.environ.get("FERMI_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("FERMI_HUB_PORT", "8000"))
c.JupyterHub.hub_port = int(os.environ.get("FERMI_HUB_API_PORT", "8081"))
if os.environ.get("FERMI_PROXY_API_PORT"):
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['FERMI_PROXY_API_PORT']}"
chp = repo / "node_modules" / ".bin" / "configurable-http-proxy"
if chp.exists():
    c.ConfigurableHTTPProxy.command = [str(chp)]

# the Python servers run with: one the servers' user can read (scripts/setup.sh builds it)
built = repo / ".work" / "server-python"
runtime = built.read_text().strip() if built.exists() else None
layout = setup(
    c,
    "local",
    home=os.environ.get("FERMI_HOME") or None,
    registry_port=int(os.environ.get("FERMI_REGISTRY_PORT", "10101")),
    registry_db_url=os.environ.get("FERMI_REGISTRY_DB_URL"),
    profiles_dir=os.environ.get("FERMI_PROFILES", str(repo / "kubespawner_profiles")),
    server_python=os.environ.get("FERMI_SERVER_PYTHON") or runtime,
)


# Try-it-now login: any user name with one shared password, and "admin" with its own — both
# made up on the first start and kept in the hub's private folder (FERMI_DEMO_PASSWORD and
# FERMI_ADMIN_PASSWORD to choose them). Use a real authenticator for anything but a trial.
def secret(name: str, length: int) -> str:
    path = layout.state / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


user_password = os.environ.get("FERMI_DEMO_PASSWORD") or secret("demo_password", 9)
admin_password = os.environ.get("FERMI_ADMIN_PASSWORD") or secret("admin_password", 30)
print(
    f"fermi_jupyter: log in with any user name and the password {user_password!r};"
    f" as admin with {admin_password!r} (kept in {layout.state})",
    file=sys.stderr,
)
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = user_password
c.SharedPasswordAuthenticator.admin_password = admin_password
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"admin"}
c.JupyterHub.load_groups = {
    "vision": {"users": ["alice", "bob"]},
    "audio": {"users": ["carol"]},
}
# a sandboxed server on a busy machine may take a while to import Lab: give it two minutes
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.allow_named_servers = True  # several servers per user, each checked the same
