"""The shipped Kubernetes configs: manifests valid against the schemas, the Python config
loads and selects FermiSpawner with the profiles."""

from __future__ import annotations

import runpy
from pathlib import Path

import kubernetes_validate
import yaml
from traitlets.config import Config

K8S = Path(__file__).resolve().parents[2] / "hub_config" / "kubernetes"
VERSION = kubernetes_validate.utils.latest_version()


def test_registry_manifests_are_valid():
    docs = [d for d in yaml.safe_load_all((K8S / "registry.yaml").read_text()) if d]
    assert {d["kind"] for d in docs} == {"PersistentVolumeClaim", "Secret", "Deployment", "Service"}
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
