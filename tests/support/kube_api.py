"""A small Kubernetes API server on loopback, for the registry's transfer Jobs (no cluster runs
here): the endpoints the registry calls — Jobs and Secrets in a namespace (create, read,
delete), pods by label selector, a pod's log (``follow=true`` streams it until the container
ends) — over real HTTP, with the objects kept as the JSON the client sent.

It runs nothing by itself. A test drives it: :meth:`start_pod`, :meth:`log`, :meth:`end_pod`,
:meth:`finish_job` play the Job controller and the kubelet; :meth:`run_pod` runs the Job's real
container command (``python -m fermi_jupyter.transfers.run``) on this machine with the Job's
environment — ``secretKeyRef`` values read from the stored Secret, so a Job whose Secret is
missing cannot start — and the claim's ``subPath`` as ``/data``; :meth:`run_job` does that for
each attempt as the Job controller would (``backoffLimit``, ``podFailurePolicy`` on exit 2).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer

from .ports import free_port

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- cluster: {{server: "http://127.0.0.1:{port}"}}
  name: test
contexts:
- context: {{cluster: test, user: test}}
  name: test
current-context: test
users:
- name: test
  user: {{token: test-cluster-token}}
"""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kubeconfig(path: Path, port: int) -> Path:
    path.write_text(KUBECONFIG.format(port=port))
    return path


class _Base(web.RequestHandler):
    def initialize(self, api: KubeAPI) -> None:
        self.api = api

    def prepare(self) -> None:
        body = self.request.body.decode() if self.request.body else ""
        with self.api.lock:
            self.api.requests.append(
                (self.request.method, self.request.path, dict(self.request.query_arguments), body)
            )

    def answer(self, status: int, obj: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(obj))

    def status(self, code: int, reason: str, message: str) -> None:
        self.answer(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "message": message, "reason": reason, "code": code})  # fmt: skip


class _Collection(_Base):
    kind = ""

    def post(self, ns: str) -> None:
        obj = json.loads(self.request.body)
        name = obj["metadata"]["name"]
        store = self.api.store(self.kind)
        with self.api.lock:
            if (ns, name) in store:
                return self.status(409, "AlreadyExists", f'{self.kind} "{name}" already exists')
            obj["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=now(), namespace=ns)
            if self.kind == "jobs":
                obj["status"] = {}
            store[(ns, name)] = obj
            self.answer(201, obj)


class _Item(_Base):
    kind = ""

    def get(self, ns: str, name: str) -> None:
        with self.api.lock:
            obj = self.api.store(self.kind).get((ns, name))
            if obj is None:
                return self.status(404, "NotFound", f'{self.kind} "{name}" not found')
            self.answer(200, obj)

    def delete(self, ns: str, name: str) -> None:
        with self.api.lock:
            obj = self.api.store(self.kind).pop((ns, name), None)
            if obj is None:
                return self.status(404, "NotFound", f'{self.kind} "{name}" not found')
            if self.kind == "jobs":
                self.api.deleted_job(ns, obj, self.get_query_argument("propagationPolicy", ""))
            self.answer(200, {"kind": "Status", "status": "Success"})


class Jobs(_Collection):
    kind = "jobs"


class Job(_Item):
    kind = "jobs"


class Secrets(_Collection):
    kind = "secrets"


class Secret(_Item):
    kind = "secrets"


class Pods(_Base):
    def get(self, ns: str) -> None:
        want = dict(
            kv.split("=", 1) for kv in self.get_query_argument("labelSelector", "").split(",") if kv
        )
        with self.api.lock:
            items = [
                p for (pns, _), p in self.api.pods.items()
                if pns == ns and want.items() <= p["metadata"]["labels"].items()
            ]  # fmt: skip
            self.answer(200, {"kind": "PodList", "apiVersion": "v1", "items": items})


class PodLog(_Base):
    async def get(self, ns: str, name: str) -> None:
        with self.api.lock:
            pod = self.api.pods.get((ns, name))
        if pod is None:
            return self.status(404, "NotFound", f'pods "{name}" not found')
        started = pod["status"]["containerStatuses"][0]["state"].keys() & {"running", "terminated"}
        if not started:
            return self.status(400, "BadRequest", f'container "transfer" in pod {name} is waiting')
        follow = self.get_query_argument("follow", "false") == "true"
        self.set_header("Content-Type", "text/plain")
        sent = 0
        while True:
            with self.api.lock:
                lines = list(self.api.logs.get(name, []))
                gone = (ns, name) not in self.api.pods
                ended = pod["status"]["phase"] in ("Succeeded", "Failed")
            for line in lines[sent:]:
                self.write(line + "\n")
            sent = len(lines)
            await self.flush()
            if not follow or gone or ended:
                break
            await asyncio.sleep(0.05)
        self.finish()


def _job_of(pod: dict) -> str | None:
    return pod["metadata"]["labels"].get("job-name")


class KubeAPI:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.RLock()
        self.jobs: dict[tuple[str, str], dict] = {}
        self.secrets: dict[tuple[str, str], dict] = {}
        self.pods: dict[tuple[str, str], dict] = {}
        self.logs: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str, dict, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._thread = threading.Thread(target=self._serve, name="kube-api", daemon=True)
        self._ready = threading.Event()

    def store(self, kind: str) -> dict:
        return {"jobs": self.jobs, "secrets": self.secrets}[kind]

    # -- the server ---------------------------------------------------------------------------
    def _serve(self) -> None:
        ns = r"/namespaces/([^/]+)"
        app = web.Application([
            (rf"/apis/batch/v1{ns}/jobs", Jobs, {"api": self}),
            (rf"/apis/batch/v1{ns}/jobs/([^/]+)", Job, {"api": self}),
            (rf"/api/v1{ns}/secrets", Secrets, {"api": self}),
            (rf"/api/v1{ns}/secrets/([^/]+)", Secret, {"api": self}),
            (rf"/api/v1{ns}/pods", Pods, {"api": self}),
            (rf"/api/v1{ns}/pods/([^/]+)/log", PodLog, {"api": self}),
        ])  # fmt: skip

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = HTTPServer(app)
            self._server.listen(self.port, "127.0.0.1")
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            self._server.stop()

        asyncio.run(main())

    def start(self) -> KubeAPI:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # -- what a test reads --------------------------------------------------------------------
    def job(self, name: str, ns: str) -> dict | None:
        with self.lock:
            return copy.deepcopy(self.jobs.get((ns, name)))

    def secret(self, name: str, ns: str) -> dict | None:
        with self.lock:
            return copy.deepcopy(self.secrets.get((ns, name)))

    def calls(self, method: str, fragment: str = "") -> list[tuple[str, str, dict, str]]:
        with self.lock:
            return [r for r in self.requests if r[0] == method and fragment in r[1]]

    def wait_job(self, name: str, ns: str, timeout: float = 30) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self.job(name, ns)
            if job is not None:
                return job
            time.sleep(0.05)
        raise AssertionError(f"no Job {ns}/{name} was created")

    # -- the Job controller and the kubelet, driven by the test -------------------------------
    def deleted_job(self, ns: str, job: dict, policy: str) -> None:
        """A deleted Job: its pods go unless orphaned; Secrets it owns go (garbage collector)."""
        name = job["metadata"]["name"]
        if policy != "Orphan":
            for key in [k for k, p in self.pods.items() if _job_of(p) == name]:
                del self.pods[key]
        for key, s in list(self.secrets.items()):
            owners = s["metadata"].get("ownerReferences") or []
            if any(o.get("uid") == job["metadata"]["uid"] for o in owners):
                del self.secrets[key]

    def start_pod(self, job_name: str, ns: str, *, running: bool = True) -> str:
        with self.lock:
            job = self.jobs[(ns, job_name)]
            n = sum(1 for p in self.pods.values() if _job_of(p) == job_name)
            name = f"{job_name}-{n}{uuid.uuid4().hex[:4]}"
            labels = {**job["spec"]["template"]["metadata"]["labels"], "job-name": job_name}
            state = {"running": {"startedAt": now()}} if running else {
                "waiting": {"reason": "ContainerCreating"}}  # fmt: skip
            self.pods[(ns, name)] = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                             "creationTimestamp": now(), "uid": str(uuid.uuid4())},
                "spec": copy.deepcopy(job["spec"]["template"]["spec"]),
                "status": {"phase": "Running" if running else "Pending",
                           "containerStatuses": [{
                               "name": "transfer", "state": state, "ready": running,
                               "restartCount": 0, "imageID": "",
                               "image": job["spec"]["template"]["spec"]["containers"][0]["image"],
                           }]},
            }  # fmt: skip
            self.logs[name] = []
            job["status"]["active"] = job["status"].get("active", 0) + 1
            return name

    def log(self, pod: str, line: str) -> None:
        with self.lock:
            self.logs[pod].append(line)

    def end_pod(self, pod: str, ns: str, exit_code: int, *, reason: str | None = None) -> None:
        """The container ended (``reason``: the pod's, e.g. DeadlineExceeded)."""
        with self.lock:
            p = self.pods[(ns, pod)]
            p["status"]["phase"] = "Succeeded" if exit_code == 0 else "Failed"
            if reason:
                p["status"]["reason"] = reason
            said = "Completed" if exit_code == 0 else "Error"
            p["status"]["containerStatuses"][0]["state"] = {
                "terminated": {"exitCode": exit_code, "reason": said}
            }
            job = self.jobs.get((ns, p["metadata"]["labels"]["job-name"]))
            if job is not None:
                st = job["status"]
                st["active"] = max(0, st.get("active", 1) - 1)
                key = "succeeded" if exit_code == 0 else "failed"
                st[key] = st.get(key, 0) + 1

    def finish_job(
        self, name: str, ns: str, kind: str, reason: str = "", message: str = ""
    ) -> None:
        with self.lock:
            job = self.jobs[(ns, name)]
            conds = job["status"].setdefault("conditions", [])
            conds.append({"type": kind, "status": "True", "reason": reason, "message": message,
                          "lastTransitionTime": now()})  # fmt: skip

    def run_pod(self, job_name: str, ns: str, storage_root: Path, *, extra: str = "") -> int:
        """One attempt for real: the Job's container command with its environment, the storage
        claim's subPath as /data; its stdout and stderr become the pod's log. ``extra``: one more
        line a tool might print (e.g. with a secret in it)."""
        job = self.job(job_name, ns)
        assert job is not None
        pod_spec = job["spec"]["template"]["spec"]
        (container,) = pod_spec["containers"]
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": "/tmp"}
        for e in container["env"]:
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                ref = e["valueFrom"]["secretKeyRef"]
                secret = self.secret(ref["name"], ns)
                assert secret is not None, f"the pod needs Secret {ref['name']}, which is missing"
                env[e["name"]] = secret["stringData"][ref["key"]]
        data = next(m for m in container["volumeMounts"] if m["name"] == "data")
        spec = json.loads(env["FERMI_TRANSFER_SPEC"])
        assert spec["local_root"] == data["mountPath"]
        spec["local_root"] = str(storage_root / data["subPath"])
        env["FERMI_TRANSFER_SPEC"] = json.dumps(spec)
        pod = self.start_pod(job_name, ns)
        if extra:
            self.log(pod, extra)
        cmd = [sys.executable if container["command"][0] == "python" else container["command"][0],
               *container["command"][1:]]  # fmt: skip
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            self.log(pod, line.rstrip("\n"))
        code = proc.wait()
        self.end_pod(pod, ns, code)
        return code

    def run_job(self, name: str, ns: str, storage_root: Path, **kw: Any) -> str:
        """The Job controller: attempts until one succeeds, exit status 2 (the podFailurePolicy)
        or backoffLimit; returns the condition it set."""
        job = self.job(name, ns)
        assert job is not None
        limit = job["spec"]["backoffLimit"]
        permanent = job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"]
        for _ in range(limit + 1):
            code = self.run_pod(name, ns, storage_root, **kw)
            if code == 0:
                self.finish_job(name, ns, "Complete")
                return "Complete"
            if code in permanent:
                said = f"Container transfer for pod {ns}/... failed with exit code {code}"
                self.finish_job(name, ns, "Failed", "PodFailurePolicy", said)
                return "Failed"
        said = "Job has reached the specified backoff limit"
        self.finish_job(name, ns, "Failed", "BackoffLimitExceeded", said)
        return "Failed"
