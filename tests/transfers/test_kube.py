"""Transfer Jobs and Secrets for Kubernetes, from the pure builders, validated against the
Kubernetes schemas (no cluster runs here)."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from fermi_jupyter.transfers.kube import credential_secret, transfer_job
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
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


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
