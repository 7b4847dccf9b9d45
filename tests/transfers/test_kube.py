"""Transfer Jobs and Secrets for Kubernetes, from the pure builders, validated against the
Kubernetes schemas (no cluster runs here)."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from fermi_jupyter.transfers.kube import PodUser, credential_secret, transfer_job
from fermi_jupyter.transfers.spec import validate

K8S = kubernetes_validate.utils.latest_version()
TOKEN = "ghp-never-in-a-manifest-91"

CASES = {
    "git download with a token, retries and a deadline": (
        {
            "source": {
                "type": "git",
                "url": "https://$(TOKEN)@git.example.org/u/r.git",
                "ref": "v1",
                "credential": "gh",
            },
            "sink": {"type": "volume", "volume_id": "vol-abc", "path": "dev/git"},
            "policy": {
                "backoff_limit": 2,
                "active_deadline_seconds": 3600,
                "extra_args": ["--depth", "1"],
                "env": {"HTTPS_PROXY": "http://proxy:3128"},
            },
        },
        ["token"],
        "volumes/vol-abc",
        False,
    ),
    "huggingface subset": (
        {
            "source": {
                "type": "huggingface",
                "repo": "openai/whisper-large-v3",
                "files": "README.md,tokenizer.json",
            },
            "sink": {"type": "volume", "volume_id": "vol-abc", "path": "hf"},
        },
        [],
        "volumes/vol-abc",
        False,
    ),
    "s3 sync download": (
        {
            "source": {
                "type": "s3",
                "uri": "s3://bucket/path/sub",
                "endpoint": "https://s3.example.org",
                "credential": "s3c",
            },
            "sink": {"type": "volume", "volume_id": "vol-abc", "path": "s3"},
            "policy": {"sync": True, "extra_args": ["--transfers=32"]},
        },
        ["access_key_id", "secret_access_key"],
        "volumes/vol-abc",
        False,
    ),
    "upload of a dataset version to s3": (
        {
            "source": {"type": "dataset", "version": "ds-abc@3"},
            "sink": {
                "type": "s3",
                "uri": "s3://bucket/out",
                "no_check_bucket": True,
                "credential": "s3c",
            },
        },
        ["access_key_id", "secret_access_key"],
        "datasets/ds-abc/3",
        True,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_transfer_jobs_are_valid_and_carry_the_policy(case):
    body, fields, subpath, read_only = CASES[case]
    spec = validate(body)
    job = transfer_job(
        spec, transfer_id="tr-x1y2", owner="alice@example.org", image="fermi/transfer:0.1",
        storage_pvc="fermi-storage", subpath=subpath, read_only=read_only, namespace="fermi",
        secret_fields=fields,
    )  # fmt: skip
    kubernetes_validate.validate(job, K8S, strict=True)
    pod = job["spec"]["template"]["spec"]
    policy = spec["policy"]
    assert job["spec"]["backoffLimit"] == policy["backoff_limit"]
    assert pod.get("activeDeadlineSeconds") == policy["active_deadline_seconds"]
    assert "activeDeadlineSeconds" not in job["spec"]  # per attempt, not for all of them
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    data = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert data["subPath"] == subpath and data["readOnly"] is read_only
    claim = next(v for v in pod["volumes"] if v["name"] == "data")["persistentVolumeClaim"]
    assert claim == {"claimName": "fermi-storage", "readOnly": read_only}
    env = {e["name"]: e for e in container["env"]}
    child = json.loads(env["FERMI_TRANSFER_SPEC"]["value"])
    assert child["local_root"] == "/data" and child["tag"] == "tr-x1y2"
    secret_env = {n for n, e in env.items() if "valueFrom" in e}
    assert secret_env == {f"FERMI_SECRET_{f.upper()}" for f in fields}
    for name in secret_env:
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == job["metadata"]["name"]
    for k, v in policy["env"].items():
        assert env[k]["value"] == v
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsNonRoot"] is True and pod["securityContext"]["runAsNonRoot"] is True
    assert identity(pod) == {"uid": 1000, "gid": 100, "fs_gid": 100, "groups": None}


def identity(pod: dict) -> dict:
    """Whom a pod's (first) container runs as: its own securityContext over the pod's."""
    pc = pod.get("securityContext") or {}
    cc = pod["containers"][0].get("securityContext") or {}
    return {
        "uid": cc.get("runAsUser", pc.get("runAsUser")),
        "gid": cc.get("runAsGroup", pc.get("runAsGroup")),
        "fs_gid": pc.get("fsGroup"),
        "groups": pc.get("supplementalGroups"),
    }


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: not-a-cluster}}]
contexts: [{name: none, context: {cluster: none, user: nobody, namespace: fermi}}]
current-context: none
"""


async def test_the_job_runs_as_the_spawners_pods_do(tmp_path, monkeypatch):
    """Files a transfer downloads belong to the uid the user's server writes the volume with:
    the Job takes the identity the real KubeSpawner puts in its pods (no cluster: a kubeconfig
    naming a closed port; building a pod opens no connection)."""
    from pathlib import Path

    import kubernetes_asyncio.config.kube_config as kube_config

    from fermi_jupyter.spawner.kube import FermiSpawner
    from fermi_jupyter.spawner.profiles import load_profiles

    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "kubeconfig"))
    profiles = load_profiles(Path(__file__).resolve().parents[2] / "kubespawner_profiles")
    spawner = FermiSpawner(
        _mock=True, profile_list=profiles, storage_pvc="fermi-storage",
        uid=2001, gid=2002, fs_gid=2003, supplemental_gids=[2004],
    )  # fmt: skip
    spawner.user_options = {"profile": profiles[0]["slug"]}
    await spawner.load_user_options()
    pod = spawner.api.api_client.sanitize_for_serialization(await spawner.get_pod_manifest())
    spec = validate(CASES["s3 sync download"][0])
    job = transfer_job(
        spec, transfer_id="tr-u1", owner="alice", image="i", storage_pvc="fermi-storage",
        subpath="volumes/vol-abc", read_only=False, namespace="fermi",
        user=PodUser.of_spawner(spawner),
    )  # fmt: skip
    kubernetes_validate.validate(job, K8S, strict=True)
    tpod = job["spec"]["template"]["spec"]
    assert identity(tpod) == identity(pod["spec"])
    assert identity(tpod) == {"uid": 2001, "gid": 2002, "fs_gid": 2003, "groups": [2004]}
    assert tpod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"


@pytest.mark.parametrize(
    "ids", [{"uid": 0}, {"gid": 0}, {"fs_gid": 0}, {"supplemental_groups": (0,)}, {"uid": -1}]
)
def test_a_job_never_runs_as_root(ids):
    with pytest.raises(ValueError, match="root"):
        PodUser(**ids)


def test_the_secret_holds_the_values_and_the_job_none():
    spec = validate(CASES["git download with a token, retries and a deadline"][0])
    secret = credential_secret("tr-x1y2", "alice", {"token": TOKEN}, namespace="fermi")
    kubernetes_validate.validate(secret, K8S, strict=True)
    assert secret["stringData"] == {"FERMI_SECRET_TOKEN": TOKEN}
    job = transfer_job(
        spec, transfer_id="tr-x1y2", owner="alice", image="i", storage_pvc="p",
        subpath="volumes/vol-abc", read_only=False, namespace="fermi", secret_fields=["token"],
    )  # fmt: skip
    assert TOKEN not in json.dumps(job)
    assert job["metadata"]["name"] == secret["metadata"]["name"]
