"""The shipped Kubernetes configs: manifests valid against the schemas, the Python config
loads and selects FermiSpawner with the profiles."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import kubernetes_validate
import yaml
from traitlets.config import Config

K8S = Path(__file__).resolve().parents[2] / "hub_config" / "kubernetes"
VERSION = kubernetes_validate.utils.latest_version()


def test_registry_manifests_are_valid():
    docs = [d for d in yaml.safe_load_all((K8S / "registry.yaml").read_text()) if d]
    assert {d["kind"] for d in docs} == {
        "PersistentVolumeClaim", "Secret", "Deployment", "Service",
        "ServiceAccount", "Role", "RoleBinding",
    }  # fmt: skip
    for doc in docs:
        kubernetes_validate.validate(doc, VERSION, strict=True)
    pvc = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # several registry replicas, each with several processes (tests/registry/test_processes.py
    # shows processes sharing one database run each job once and share the event stream)
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    assert deploy["spec"]["replicas"] >= 2
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert "--processes=" in " ".join(container["command"])
    assert container["resources"]["requests"]["cpu"]
    # transfers run as Jobs, with the Role bound to the registry's service account
    assert "--RegistryApp.transfer_backend=kubernetes" in container["command"][-1]
    account = deploy["spec"]["template"]["spec"]["serviceAccountName"]
    binding = next(d for d in docs if d["kind"] == "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account}]
    role = next(d for d in docs if d["kind"] == "Role")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_z2jh_values_parse_and_name_the_spawner():
    values = yaml.safe_load((K8S / "values.yaml").read_text())
    assert "FermiSpawner" in values["hub"]["extraConfig"]["fermi"]
    assert values["hub"]["services"]["fermi-registry"]["url"].startswith("http://fermi-registry")


def test_python_config_loads(monkeypatch):
    monkeypatch.setenv("FERMI_REGISTRY_TOKEN", "x")
    monkeypatch.setenv("FERMI_PROFILES", str(K8S.parents[1] / "kubespawner_profiles"))
    c = Config()
    runpy.run_path(str(K8S / "jupyterhub_config.py"), init_globals={"get_config": lambda: c})
    assert c.JupyterHub.spawner_class.__name__ == "FermiSpawner"
    assert c.FermiSpawner.storage_pvc == "fermi-storage"
    assert any(h[0] == "/fermi/datasets" for h in c.JupyterHub.extra_handlers)


def test_a_malformed_profile_stops_the_config(monkeypatch, tmp_path):
    import pytest

    from fermi_jupyter.spawner.profiles import ProfileError

    (tmp_path / "gpu.yaml").write_text("slug: gpu\ndisplay_name: GPU\nimage: x\ngpu: {count: 0}\n")
    monkeypatch.setenv("FERMI_REGISTRY_TOKEN", "x")
    monkeypatch.setenv("FERMI_PROFILES", str(tmp_path))
    with pytest.raises(ProfileError, match=r"gpu.yaml: gpu.count:"):
        runpy.run_path(str(K8S / "jupyterhub_config.py"), init_globals={"get_config": Config})


# -- one admin entry point: fermi_jupyter.hub.setup ---------------------------------------------
SHIPPED = [K8S / "jupyterhub_config.py", K8S.parent / "local" / "jupyterhub_config.py"]


def roles(c: Config) -> dict[str, dict]:
    return {r["name"]: r for r in c.JupyterHub.load_roles}


def test_setup_local_in_one_call(tmp_path):
    from fermi_jupyter.hub import setup
    from fermi_jupyter.spawner.local import LocalFermiSpawner

    c = Config()
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self", "read:groups"]}]  # the admin's
    layout = setup(c, "local", home=tmp_path / "fermi", registry_port=12345)
    assert c.JupyterHub.spawner_class is LocalFermiSpawner
    assert c.LocalFermiSpawner.storage_root == str(layout.storage)
    assert c.LocalFermiSpawner.home_dir_template == str(layout.homes / "{username}")
    assert str(layout.home) in c.LocalFermiSpawner.protected_paths
    # hub state in the private folder, which no server can reach
    assert c.JupyterHub.cookie_secret_file == str(layout.state / "jupyterhub_cookie_secret")
    assert c.JupyterHub.db_url == f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
    assert oct(layout.state.stat().st_mode & 0o777) == "0o700"
    (service,) = c.JupyterHub.services
    assert service["name"] == "fermi-registry" and service["url"] == "http://127.0.0.1:12345"
    assert f"--storage-root={layout.storage}" in service["command"]
    r = roles(c)
    assert r["user"]["scopes"] == ["self", "read:groups", "access:services!service=fermi-registry"]
    assert set(r["server"]["scopes"]) == {
        "users:activity!user",
        "access:servers!server",  # JupyterHub's own, kept
        "access:services!service=fermi-registry",
    }
    # least privilege: who someone is, the admin flag and teams; nothing else
    assert r["fermi-registry"] == {
        "name": "fermi-registry",
        "scopes": ["read:users:name", "read:users:groups"],
        "services": ["fermi-registry"],
    }
    paths = [h[0] for h in c.JupyterHub.extra_handlers]
    assert "/fermi/datasets" in paths and paths[-1] == r"/fermi(?:/.*)?"
    setup(c, "local", home=tmp_path / "fermi", registry_port=12345)  # twice: nothing doubles
    assert len(c.JupyterHub.services) == 1 and len(c.JupyterHub.extra_handlers) == len(paths)
    assert len(roles(c)["user"]["scopes"]) == 3


def test_setup_refuses_what_it_cannot_do():
    import pytest

    from fermi_jupyter.hub import setup

    with pytest.raises(ValueError, match="'local' or 'kubernetes'"):
        setup(Config(), "docker")
    with pytest.raises(ValueError, match="registry_url is required"):
        setup(Config(), "kubernetes")


def test_the_shipped_configs_hold_no_test_switches():
    for path in SHIPPED:
        text = path.read_text()
        for switch in ("FERMI_LOCAL_SPAWNER", "FERMI_SPAWNER", "simple", "extra_read_only"):
            assert switch not in text, (path.name, switch)
        assert "from fermi_jupyter.hub import setup" in text
    values = yaml.safe_load((K8S / "values.yaml").read_text())
    assert "loadRoles" not in values["hub"]  # setup() makes them


def test_the_z2jh_extra_config_runs(monkeypatch):
    values = yaml.safe_load((K8S / "values.yaml").read_text())
    code = values["hub"]["extraConfig"]["fermi"].replace(
        "/etc/fermi/profiles", str(K8S.parents[1] / "kubespawner_profiles")
    )
    c = Config()
    exec(code, {"c": c})
    assert c.JupyterHub.spawner_class.__name__ == "FermiSpawner"
    assert "fermi-registry" in roles(c) and c.FermiSpawner.storage_pvc == "fermi-storage"


def test_the_local_config_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("FERMI_HOME", str(tmp_path / "home"))
    c = Config()
    runpy.run_path(str(SHIPPED[1]), init_globals={"get_config": lambda: c})
    assert c.JupyterHub.spawner_class.__name__ == "LocalFermiSpawner"
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert len(c.SharedPasswordAuthenticator.admin_password) >= 32  # made up, not "fermi"
    assert c.SharedPasswordAuthenticator.user_password != "fermi"
    assert (tmp_path / "home" / "hub" / "demo_password").stat().st_mode & 0o077 == 0


def test_the_default_home_is_outside_the_checkout(monkeypatch, tmp_path):
    from fermi_jupyter.hub.layout import LocalLayout

    home = LocalLayout.default_home()
    repo = K8S.parents[1]
    assert not home.is_relative_to(repo)
    if os.geteuid() == 0:
        assert home == Path("/var/lib/fermi-jupyter")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert LocalLayout.default_home() == tmp_path / "fermi-jupyter"
