"""One call from ``jupyterhub_config.py`` turns fermi_jupyter on:

.. code-block:: python

    from fermi_jupyter.hub import setup
    setup(c, spawner="local", home="/var/lib/fermi-jupyter")          # one machine
    setup(c, spawner="kubernetes", registry_url=…, profiles_dir=…)    # a cluster

It adds the registry service (when given), least-privilege roles (users and their servers may
call the registry; the registry may read user names, admin flags and groups — nothing else),
the hub endpoints under ``{hub}/fermi/`` and the spawner with its settings. Anything set in
the config before the call is kept; roles are merged, not replaced.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..spawner.hubapi import SCOPES, SERVICE
from .handlers import handlers
from .layout import LocalLayout

SERVICE_PATH = f"/services/{SERVICE}/api/v1"
REGISTRY_SCOPES = ["read:users:name", "read:users:groups"]  # who someone is, admin flag, teams
SERVER_DEFAULT = ["users:activity!user", "access:servers!server"]  # JupyterHub's own


def setup(
    c: Any,
    spawner: str = "local",
    *,
    registry_url: str | None = None,
    server_registry_url: str | None = None,
    service: dict[str, Any] | None = None,
    profiles_dir: str | os.PathLike | None = None,
    home: str | os.PathLike | None = None,
    registry_port: int = 10101,
    registry_db_url: str | None = None,
    server_python: str | None = None,
) -> LocalLayout | None:
    """Configure the hub for fermi_jupyter.

    ``spawner``: ``"local"`` (bubblewrap sandboxes on this machine, a managed registry under
    ``home``) or ``"kubernetes"`` (FermiSpawner; the registry runs as its own Deployment).
    ``registry_url``: the registry API as the hub reaches it. ``service``: the registry's
    JupyterHub service entry (local: made for you). Returns the local layout (``home``'s
    folders) for the local spawner.
    """
    if spawner not in ("local", "kubernetes"):
        raise ValueError(f"spawner is 'local' or 'kubernetes', not {spawner!r}")
    layout = None
    if spawner == "local":
        layout = LocalLayout(Path(home) if home else LocalLayout.default_home()).create()
        service = service or local_service(
            layout, registry_port, registry_db_url, transfer_python=server_python
        )
        registry_url = registry_url or f"http://127.0.0.1:{registry_port}{SERVICE_PATH}"
    if not registry_url:
        raise ValueError(
            "registry_url is required, e.g. http://fermi-registry:10101" + SERVICE_PATH
        )
    if service is not None:
        add_service(c, service)
    add_roles(c)
    add_handlers(c, registry_url)
    if spawner == "local":
        _local_spawner(c, layout, registry_url, server_registry_url, profiles_dir, server_python)
    else:
        _kube_spawner(c, registry_url, server_registry_url, profiles_dir)
    return layout


def local_service(
    layout: LocalLayout,
    port: int,
    db_url: str | None,
    *,
    transfer_python: str | None = None,
    transfer_user: str = "fermi-server",
) -> dict[str, Any]:
    """The registry as a hub-managed process on this machine. Its transfers run as the
    volume's owner (the servers' user, ``transfer_user``, for a volume no server has used), so
    with the servers' runtime (``transfer_python``), which that user can read."""
    transfers = [f"--RegistryApp.transfer_user={transfer_user}"]
    if transfer_python:
        transfers.append(f"--RegistryApp.transfer_python={transfer_python}")
    return {
        "name": SERVICE,
        "url": f"http://127.0.0.1:{port}",
        "command": [
            sys.executable,
            "-m",
            "fermi_jupyter.registry",
            f"--storage-root={layout.storage}",
            f"--db-url={db_url or 'sqlite:///' + str(layout.state / 'registry.sqlite')}",
            *transfers,
        ],
        "display": True,
        "info": {"description": "Datasets and volumes"},
        "oauth_no_confirm": True,
    }


def add_service(c: Any, service: dict[str, Any]) -> None:
    entry = {"name": SERVICE, "oauth_no_confirm": True, **service}
    services = [s for s in c.JupyterHub.get("services", []) if s.get("name") != entry["name"]]
    c.JupyterHub.services = [*services, entry]


def add_roles(c: Any) -> None:
    """Merge the roles fermi needs into ``load_roles`` (scopes are added, never removed)."""
    roles = {r["name"]: dict(r) for r in c.JupyterHub.get("load_roles", [])}
    wanted = {
        "user": {"scopes": ["self", *SCOPES]},
        "server": {"scopes": [*SERVER_DEFAULT, *SCOPES]},
        SERVICE: {"scopes": REGISTRY_SCOPES, "services": [SERVICE]},
    }
    for name, want in wanted.items():
        role = roles.setdefault(name, {"name": name, "scopes": []})
        role["scopes"] = list(dict.fromkeys([*(role.get("scopes") or []), *want["scopes"]]))
        if "services" in want:
            role["services"] = list(
                dict.fromkeys([*(role.get("services") or []), *want["services"]])
            )
    c.JupyterHub.load_roles = list(roles.values())


def add_handlers(c: Any, registry_url: str) -> None:
    known = {h[0] for h in c.JupyterHub.get("extra_handlers", [])}
    c.JupyterHub.extra_handlers = [
        *c.JupyterHub.get("extra_handlers", []),
        *(h for h in handlers() if h[0] not in known),
    ]
    c.JupyterHub.tornado_settings = {
        **c.JupyterHub.get("tornado_settings", {}),
        "fermi_registry_url": registry_url,
    }


def _local_spawner(c, layout, registry_url, server_registry_url, profiles_dir, server_python):  # type: ignore[no-untyped-def]
    from ..spawner.local import LocalFermiSpawner

    c.JupyterHub.spawner_class = LocalFermiSpawner
    cfg = c.LocalFermiSpawner
    cfg.storage_root = str(layout.storage)
    cfg.home_dir_template = str(layout.homes / "{username}")
    cfg.hub_registry_url = registry_url
    if server_registry_url:
        cfg.server_registry_url = server_registry_url
    cfg.protected_paths = [*cfg.get("protected_paths", []), str(layout.home)]
    if profiles_dir:
        cfg.profiles_dir = str(profiles_dir)
    if server_python:
        cfg.server_python = server_python
    if "default_url" not in c.Spawner:
        c.Spawner.default_url = "/lab"
    # hub state in the layout's private folder, unless the config chose otherwise
    hub = c.JupyterHub
    if "db_url" not in hub:
        hub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
    if "cookie_secret_file" not in hub:
        hub.cookie_secret_file = str(layout.state / "jupyterhub_cookie_secret")
    if "pid_file" not in hub:
        hub.pid_file = str(layout.state / "jupyterhub.pid")
    if "pid_file" not in c.ConfigurableHTTPProxy:
        c.ConfigurableHTTPProxy.pid_file = str(layout.state / "jupyterhub-proxy.pid")


def _kube_spawner(c, registry_url, server_registry_url, profiles_dir):  # type: ignore[no-untyped-def]
    from ..spawner.kube import FermiSpawner
    from ..spawner.profiles import load_profiles

    c.JupyterHub.spawner_class = FermiSpawner
    cfg = c.FermiSpawner
    cfg.hub_registry_url = registry_url
    cfg.server_registry_url = server_registry_url or registry_url
    if profiles_dir:
        load_profiles(Path(profiles_dir))  # fail fast: a malformed file stops the hub, named
        cfg.profiles_dir = str(profiles_dir)
