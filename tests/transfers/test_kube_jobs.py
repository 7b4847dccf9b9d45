"""Transfers as Kubernetes Jobs (``RegistryApp.transfer_backend = 'kubernetes'``), down to the
HTTP requests: the real registry (its REST API, job runner, transfer service and
``kubernetes_asyncio`` client) against a Kubernetes API test server on loopback
(tests/support/kube_api.py), which the tests drive as the Job controller and kubelet would —
for the happy path by running the Job's real container command with the Job's environment."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest

from fermi_jupyter.transfers.kube import object_name

from ..support.git_server import make_repo
from ..support.kube_api import KubeAPI, kubeconfig
from ..support.ports import free_port
from ..support.registry import InProcessRegistry
from .conftest import GIT_TOKEN, wait_transfer

K8S = kubernetes_validate.utils.latest_version()
NS = "fermi-test"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def kube() -> Iterator[KubeAPI]:
    api = KubeAPI().start()
    yield api
    api.stop()
    # whichever of this module's tests ran: the shipped Role allowed every call they made
    made = {_verb(m, p) for m, p, _, _ in api.requests}
    assert made <= _shipped_role(), made - _shipped_role()


def _shipped_role() -> set[tuple[str, str, str]]:
    import yaml

    docs = [d for d in yaml.safe_load_all(SHIPPED.read_text()) if d]
    role = next(d for d in docs if d["kind"] == "Role")
    return {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }


@pytest.fixture(scope="module")
def kreg(kube: KubeAPI) -> Iterator[InProcessRegistry]:
    home = Path(tempfile.mkdtemp(prefix="fermi-kube-reg-"))
    config = kubeconfig(home / "kubeconfig", kube.port)
    logs = Collect()
    logging.getLogger().addHandler(logs)
    r = InProcessRegistry(
        home, f"sqlite:///{home / 'reg.sqlite'}",
        transfer_backend="kubernetes", transfer_kube_image="fermi/transfer:test",
        transfer_kube_namespace=NS, transfer_kube_config=str(config),
        transfer_kube_poll_interval=0.1, transfer_kube_request_timeout=5,
        transfer_allow_loopback=True,
    ).start()  # fmt: skip
    r.app.log.addHandler(logs)
    r.logs = logs  # type: ignore[attr-defined]
    yield r
    r.stop()
    logging.getLogger().removeHandler(logs)
    shutil.rmtree(home, ignore_errors=True)


def volume(c, name: str) -> dict:
    r = c.post("/volumes", json={"name": name, "capacity": "1Gi"})
    assert r.status_code == 201, r.text
    return r.json()


def credential(c, name: str, **fields) -> None:
    r = c.post("/credentials", json={"name": name, **fields})
    assert r.status_code == 201, r.text


def test_import_is_a_job_whose_log_and_result_register_the_version(kreg, kube, git_server):
    make_repo(git_server.root, "kube-locked", {"data.csv": "a,b\n1,2\n"}, private=True)
    url = git_server.url("kube-locked", private=True).replace("http://", "http://$(TOKEN)@")
    with kreg["alice"] as c:
        credential(c, "git-kube", type="git", token=GIT_TOKEN)
        vol = volume(c, "kube-imports")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": url, "credential": "git-kube"},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "code"},
            "dataset": {"name": "kube-code", "data_type": "text"},
            "policy": {"backoff_limit": 3, "active_deadline_seconds": 900},
        })  # fmt: skip
        assert r.status_code == 202, r.text
        tid = r.json()["id"]
        name = object_name(tid)
        job = kube.wait_job(name, NS)
        end = time.monotonic() + 10
        while (secret := kube.secret(name, NS)) is None:
            assert time.monotonic() < end, "no credential Secret"
            time.sleep(0.05)
        # what was sent is valid, carries the policy, and the token is only in the Secret
        kubernetes_validate.validate(job, K8S, strict=True)
        kubernetes_validate.validate(secret, K8S, strict=True)
        assert job["spec"]["backoffLimit"] == 3
        assert job["spec"]["template"]["spec"]["activeDeadlineSeconds"] == 900
        assert "activeDeadlineSeconds" not in job["spec"]
        assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "fermi/transfer:test"
        assert secret["metadata"]["ownerReferences"] == [
            {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": job["metadata"]["uid"]}
        ]
        assert secret["stringData"] == {"FERMI_SECRET_TOKEN": GIT_TOKEN}
        (post_job,) = kube.calls("POST", "/jobs")
        assert GIT_TOKEN not in post_job[3]
        # the kubelet: the Job's real command, with a line a tool might print with the token
        leak = f"fatal: could not read from http://x:{GIT_TOKEN}@example/ (first try)"
        assert kube.run_job(name, NS, kreg.storage_root, extra=leak) == "Complete"
        t = wait_transfer(c, tid)
        assert t["state"] == "complete", (t, kreg.logs.lines[-20:])
        assert t["attempts"] == 1 and t["attempt_history"][0]["pod"].startswith(name)
        conds = {x["type"]: x["status"] for x in t["conditions"]}
        assert conds == {"Initialized": "True", "Running": "False", "Complete": "True",
                         "Failed": "False"}  # fmt: skip
        assert t["progress"]["files_done"] >= 1
        ds_id, number = t["version"].split("@")
        end = time.monotonic() + 60
        while (v := c.get(f"/datasets/{ds_id}/versions/{number}").json())["status"] != "ready":
            assert time.monotonic() < end, v
            time.sleep(0.1)
        assert v["provenance"]["transfer"] == tid and "kube-locked" in v["provenance"]["source"]
        assert v["source"]["volume_id"] == vol["id"]
        got = list((kreg.storage_root / "volumes" / vol["id"] / "code").rglob("data.csv"))
        assert [p.read_text() for p in got] == ["a,b\n1,2\n"]
        log = c.get(f"/transfers/{tid}/log").json()["text"]
        assert "[attempt 1] fatal: could not read from http://x:[redacted]@example/" in log
        assert f"submitted Job {NS}/{name}" in log and "complete" in log
        answers = "".join(
            c.get(p).text
            for p in (f"/transfers/{tid}", f"/transfers/{tid}/log", "/transfers", "/jobs")
        )
    # the Secret is deleted once the Job has ended (not left for the Job's TTL)
    assert kube.secret(name, NS) is None and kube.calls("DELETE", f"/secrets/{name}")
    sent = [r[3] for r in kube.requests if not (r[0] == "POST" and r[1].endswith("/secrets"))]
    assert GIT_TOKEN not in "".join(sent)
    assert GIT_TOKEN not in answers
    assert GIT_TOKEN not in (kreg.storage_root / "transfers" / f"{tid}.log").read_text()
    assert GIT_TOKEN not in "\n".join(kreg.logs.lines)


def test_failed_job_fails_the_transfer_with_each_attempts_message(kreg, kube):
    closed = f"http://127.0.0.1:{free_port()}/gone.git"  # nothing listens: worth retrying
    with kreg["alice"] as c:
        vol = volume(c, "kube-fails")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": closed},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "x"},
            "policy": {"backoff_limit": 1, "active_deadline_seconds": 30},
        })  # fmt: skip
        tid = r.json()["id"]
        name = object_name(tid)
        job = kube.wait_job(name, NS)
        assert job["spec"]["backoffLimit"] == 1
        assert kube.secret(name, NS) is None  # no credential, no Secret
        # attempt 1 hits the pod's deadline; attempt 2 runs for real and cannot connect
        first = kube.start_pod(name, NS)
        kube.log(first, json.dumps({"event": "log", "message": "cloning"}))
        running = wait_transfer(c, tid, until=("running",))
        end = time.monotonic() + 10
        while not c.get(f"/transfers/{tid}").json()["attempt_history"]:
            assert time.monotonic() < end
            time.sleep(0.05)
        kube.end_pod(first, NS, 137, reason="DeadlineExceeded")
        assert kube.run_pod(name, NS, kreg.storage_root) == 1
        kube.finish_job(name, NS, "Failed", "BackoffLimitExceeded", "Job has reached the limit")
        t = wait_transfer(c, tid)
        assert running["state"] == "running"
        assert t["state"] == "failed" and t["attempts"] == 2, t
        one, two = t["attempt_history"]
        assert (one["outcome"], one["reason"]) == ("failed", "deadline")
        assert "active_deadline_seconds (30s)" in one["message"]
        assert two["outcome"] == "failed" and two["reason"] == t["reason"] != "deadline"
        assert t["error"] == two["message"] and "127.0.0.1" in t["error"]
        conds = {x["type"]: x["status"] for x in t["conditions"]}
        assert conds["Failed"] == "True" and conds["Running"] == "False"
        log = c.get(f"/transfers/{tid}/log").json()["text"]
        assert "[attempt 1] cloning" in log and "attempt 1 failed (deadline)" in log


def _progress_seen(c, kube: KubeAPI, pod: str, tid: str) -> None:
    """The pod reports 3 files, 300 bytes; wait until the transfer shows it (its log is read)."""
    kube.log(pod, json.dumps({"event": "progress", "files_done": 3, "bytes_done": 300,
                              "files_total": None, "bytes_total": None}))  # fmt: skip
    end = time.monotonic() + 10
    while c.get(f"/transfers/{tid}").json()["progress"]["bytes_done"] != 300:
        assert time.monotonic() < end
        time.sleep(0.05)


def test_cancel_deletes_job_and_secret_and_others_cannot(kreg, kube):
    with kreg["alice"] as c:
        credential(c, "git-cancel", type="git", token="ghp-cancelMe-0042")
        vol = volume(c, "kube-cancel")
        r = c.post("/transfers", json={
            "source": {"type": "git", "url": "https://git.example.org/big.git",
                       "credential": "git-cancel"},
            "sink": {"type": "volume", "volume_id": vol["id"], "path": "big"},
        })  # fmt: skip
        tid = r.json()["id"]
        name = object_name(tid)
        kube.wait_job(name, NS)
        pod = kube.start_pod(name, NS)
        _progress_seen(c, kube, pod, tid)
    with kreg["bob"] as b:
        assert b.get(f"/transfers/{tid}").status_code == 404
        assert b.get(f"/transfers/{tid}/log").status_code == 404
        r = b.delete(f"/transfers/{tid}")
        assert r.status_code == 404 and r.json()["reason"] == "transfer-not-found"
        assert all(x["id"] != tid for x in b.get("/transfers").json()["items"])
    assert kube.job(name, NS) is not None and not kube.calls("DELETE", name)
    with kreg["alice"] as c:
        assert c.delete(f"/transfers/{tid}").status_code == 202
        t = wait_transfer(c, tid)
    assert t["state"] == "cancelled" and t["attempt_history"][-1]["outcome"] == "cancelled"
    (delete_job,) = kube.calls("DELETE", f"/jobs/{name}")
    assert delete_job[2]["propagationPolicy"] == [b"Background"]
    assert kube.calls("DELETE", f"/secrets/{name}")
    assert kube.job(name, NS) is None and kube.secret(name, NS) is None
    assert not [p for p in kube.pods.values() if p["metadata"]["labels"]["job-name"] == name]


def _import_somewhere(c, volume_name: str):
    """A Git import into a new volume of that name (the repository is never reached)."""
    vol = volume(c, volume_name)
    return c.post("/transfers", json={
        "source": {"type": "git", "url": "https://git.example.org/r.git"},
        "sink": {"type": "volume", "volume_id": vol["id"], "path": "r"},
    })  # fmt: skip


def test_the_registry_taking_over_a_job_logs_each_line_once(kube, tmp_path):
    """The registry following a Job stops (a restart, a rollout) and the next one follows the
    Job on: it reads the pod's log from the start, as Kubernetes serves it, but logs only the
    lines not logged yet — and still knows the earlier ones (the failure quotes them)."""
    home = tmp_path / "reg"
    home.mkdir()
    traits = dict(
        transfer_backend="kubernetes", transfer_kube_image="fermi/transfer:test",
        transfer_kube_namespace=NS,
        transfer_kube_config=str(kubeconfig(home / "kubeconfig", kube.port)),
        transfer_kube_poll_interval=0.1, transfer_kube_request_timeout=5,
    )  # fmt: skip
    db = f"sqlite:///{home / 'reg.sqlite'}"
    first = InProcessRegistry(home, db, **traits).start()
    try:
        with first["alice"] as c:
            tid = _import_somewhere(c, "kube-takeover").json()["id"]
            name = object_name(tid)
            kube.wait_job(name, NS)
            pod = kube.start_pod(name, NS)
            kube.log(pod, "Cloning into 'r'...")  # a plain line, as git prints it
            kube.log(pod, json.dumps({"event": "log", "message": "fetched 3 objects"}))
            _progress_seen(c, kube, pod, tid)
    finally:
        first.stop()
    assert kube.job(name, NS) is not None  # the Job runs on
    second = InProcessRegistry(home, db, **traits).start()
    try:
        with second["alice"] as c:
            end = time.monotonic() + 20
            while "submitted earlier" not in c.get(f"/transfers/{tid}/log").json()["text"]:
                assert time.monotonic() < end, "the next registry never followed the Job"
                time.sleep(0.05)
            kube.log(pod, json.dumps({"event": "log", "message": "checked out main"}))
            kube.log(pod, "fatal: early EOF")
            kube.end_pod(pod, NS, 128)
            kube.finish_job(name, NS, "Failed", "BackoffLimitExceeded", "Job has reached the limit")
            t = wait_transfer(c, tid)
            log = c.get(f"/transfers/{tid}/log").json()["text"]
    finally:
        second.stop()
    lines = ["Cloning into 'r'...", "fetched 3 objects", "checked out main", "fatal: early EOF"]
    assert [log.count(f"[attempt 1] {line}") for line in lines] == [1, 1, 1, 1], log
    assert t["state"] == "failed" and t["attempts"] == 1, t
    assert "Cloning into 'r'... | fatal: early EOF" in t["error"], t["error"]
    assert "log_lines" not in t["attempt_history"][0]  # bookkeeping, not the API's


def test_unreachable_api_fails_the_transfer_with_a_clear_message(kreg, kube, tmp_path):
    service = kreg.app.transfers
    settings = service.kube
    port = free_port()  # nothing listens there
    service.kube = dataclasses.replace(
        settings, config_file=str(kubeconfig(tmp_path / "kubeconfig", port))
    )
    try:
        with kreg["alice"] as c:
            r = _import_somewhere(c, "kube-down")
            assert r.status_code == 202, r.text
            t = wait_transfer(c, r.json()["id"], timeout=30)
    finally:
        service.kube = settings
    assert t["state"] == "failed" and t["reason"] == "kubernetes-unavailable", t
    assert f"the Kubernetes API at http://127.0.0.1:{port} did not answer" in t["error"]


def test_a_pod_that_never_starts_fails_the_transfer_with_its_reason(kreg, kube):
    service = kreg.app.transfers
    settings = service.kube
    service.kube = dataclasses.replace(settings, start_timeout=0.5)
    try:
        with kreg["alice"] as c:
            r = _import_somewhere(c, "kube-stuck")
            tid = r.json()["id"]
            name = object_name(tid)
            kube.wait_job(name, NS)
            kube.start_pod(name, NS, running=False)  # e.g. its image cannot be pulled
            t = wait_transfer(c, tid)
    finally:
        service.kube = settings
    assert t["state"] == "failed" and t["reason"] == "not-started", t
    assert "did not start within 0.5s (ContainerCreating)" in t["error"]
    assert kube.job(name, NS) is None  # deleted, with its pods


SHIPPED = Path(__file__).resolve().parents[2] / "hub_config" / "kubernetes" / "registry.yaml"


def _verb(method: str, path: str) -> tuple[str, str, str]:
    """(API group, resource, verb) of one request the registry made."""
    parts = path.strip("/").split("/")
    group = parts[1] if parts[0] == "apis" else ""
    rest = parts[parts.index("namespaces") + 2 :]
    resource = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
    verb = {"POST": "create", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}.get(method)
    return group, resource, verb or ("get" if len(rest) > 1 else "list")


def test_shipped_config_selects_jobs_and_its_role_grants_only_what_is_used():
    """The shipped Deployment selects Jobs; its Role grants exactly the calls the registry
    makes (the ``kube`` fixture checks, after the module, that every call made was allowed)."""
    import shlex

    import yaml

    from fermi_jupyter.registry.app import RegistryApp

    docs = [d for d in yaml.safe_load_all(SHIPPED.read_text()) if d]
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    command = shlex.split(deploy["spec"]["template"]["spec"]["containers"][0]["command"][-1])
    app = RegistryApp()
    app.parse_command_line([a for a in command if a.startswith("--RegistryApp.")])
    settings = app.kube_settings()
    assert settings is not None and settings.storage_pvc == "fermi-storage" and settings.image
    assert _shipped_role() == {
        ("batch", "jobs", "create"),
        ("batch", "jobs", "get"),
        ("batch", "jobs", "delete"),
        ("", "secrets", "create"),
        ("", "secrets", "delete"),
        ("", "pods", "list"),
        ("", "pods/log", "get"),
    }
