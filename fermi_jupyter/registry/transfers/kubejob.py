"""A transfer as a Kubernetes Job (``RegistryApp.transfer_backend = 'kubernetes'``).

The Job comes from :func:`fermi_jupyter.transfers.kube.transfer_job`; Kubernetes runs its
attempts (``backoffLimit``), enforces the deadline per attempt (the pod's
``activeDeadlineSeconds``) and fails it at once on a permanent failure (``podFailurePolicy``).
The registry follows it: each pod is one attempt, its log is read as the local child's output
is (:class:`.lines.LineReader`: JSON progress and result lines, credentials redacted), and the
Job's ``Complete`` / ``Failed`` condition ends the transfer.

The credential Secret is created *after* the Job, with the Job as its owner
(``ownerReferences``): the garbage collector removes it with the Job even when the registry is
gone, and there is never a Secret that nothing owns (a pod that starts first waits for it:
the kubelet retries a missing ``secretKeyRef``). The registry deletes it as soon as the Job has
finished, so a credential never waits for ``ttlSecondsAfterFinished``. Cancel deletes the Job
(``propagationPolicy: Background``: its pods go too) and the Secret.

A registry that stops leaves the Job running; the registry that takes the job over finds the
Job by its name and follows it on.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...transfers.context import SECRET_ENV
from ...transfers.kube import CONTAINER, credential_secret, labels, object_name, transfer_job
from ...transfers.report import Redactor
from ..orm import utcnow
from ..serialize import iso
from .kubeapi import Cluster, KubeError, KubeSettings
from .lines import LineReader, Outcome

FINISHED = ("Complete", "Failed")


class Stopping(Exception):
    """The registry is stopping: the Job runs on, another registry follows it."""


@dataclass
class Hooks:
    """What the transfer service gives a Job to report through."""

    log: Callable[[str], None]  # lines of the pods' logs (already redacted)
    note: Callable[[str], None]  # the registry's own lines about the Job
    progress: Callable[[dict[str, Any]], None]
    running: Callable[[bool, str], None]  # the Running condition changed; attempts were saved
    heartbeat: Callable[[], bool]  # True: someone asked to cancel
    cancel: threading.Event
    stopping: Callable[[], bool]


def _condition(job: dict[str, Any]) -> dict[str, Any] | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in FINISHED and c.get("status") == "True":
            return c
    return None


def _created(pod: dict[str, Any]) -> tuple[str, str]:
    return (pod["metadata"].get("creationTimestamp") or "", pod["metadata"]["name"])


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == CONTAINER:
            return cs.get("state") or {}
    return {}


class KubeTransfer:
    def __init__(
        self,
        settings: KubeSettings,
        spec: dict[str, Any],
        *,
        tid: str,
        owner: str,
        secrets: dict[str, str],
        subpath: str,
        read_only: bool,
        attempts: list[dict[str, Any]],
        hooks: Hooks,
        allow_loopback: bool = False,
    ):
        self.settings, self.spec, self.tid, self.owner = settings, spec, tid, owner
        self.secrets = {k: v for k, v in secrets.items() if k in SECRET_ENV}
        self.subpath, self.read_only, self.allow_loopback = subpath, read_only, allow_loopback
        self.attempts, self.hooks = attempts, hooks
        self.name = object_name(tid)
        self.where = f"{settings.namespace}/{self.name}"
        self.selector = f"fermi.io/transfer={labels(tid, owner)['fermi.io/transfer']}"
        self.redact = Redactor(secrets.values())
        self.limit = spec["policy"]["backoff_limit"]
        self.readers: dict[str, LineReader] = {}
        self.followers: dict[str, asyncio.Task] = {}
        self.first_seen: dict[str, float] = {}
        self.pods: dict[str, dict[str, Any]] = {}
        self.current: set[str] = set()  # the pods of the last look
        self._last_beat = 0.0

    def run(self) -> Outcome:
        """Submit (or find) the Job and follow it to its end. Raises :class:`Stopping`."""
        return asyncio.run(self._run())

    async def _run(self) -> Outcome:
        try:
            async with Cluster(self.settings) as k8s:
                self.k8s = k8s
                try:
                    await self._submit()
                    return await self._watch()
                finally:
                    for task in self.followers.values():
                        task.cancel()
                    await asyncio.gather(*self.followers.values(), return_exceptions=True)
        except KubeError as e:
            return Outcome(False, e.reason, self.redact(e.message))

    # -- submit -------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        s = self.settings
        return transfer_job(
            self.spec, transfer_id=self.tid, owner=self.owner, image=s.image,
            storage_pvc=s.storage_pvc, subpath=self.subpath, read_only=self.read_only,
            namespace=s.namespace, secret_fields=sorted(self.secrets), resources=s.resources,
            ttl_seconds_after_finished=s.ttl_seconds_after_finished,
            service_account=s.service_account, user=s.pod_user,
            allow_loopback=self.allow_loopback,
        )  # fmt: skip

    def secret(self, job: dict[str, Any]) -> dict[str, Any]:
        secret = credential_secret(
            self.tid, self.owner, self.secrets, namespace=self.settings.namespace
        )
        secret["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": job["metadata"]["name"],
                "uid": job["metadata"]["uid"],
            }
        ]
        return secret

    async def _submit(self) -> None:
        job = await self.k8s.read_job(self.name)
        if job is None:
            job = await self.k8s.create_job(self.manifest())
            self.hooks.note(f"submitted Job {self.where}")
        else:
            self.hooks.note(f"following Job {self.where}, submitted earlier")
        if self.secrets and _condition(job) is None:
            try:
                await self.k8s.create_secret(self.secret(job))
            except KubeError:
                await self._delete()
                raise

    # -- follow -------------------------------------------------------------------------------
    async def _watch(self) -> Outcome:
        last_ok = time.monotonic()
        while True:
            # stopping first: a registry stopped in-process also sets every job's cancel flag,
            # and the Job must run on for the next registry (a user's cancel is in the
            # database: that registry finds it)
            if self.hooks.stopping():
                raise Stopping()
            if self._cancel_asked():
                return await self._cancel()
            try:
                job = await self.k8s.read_job(self.name)
                pods = await self.k8s.list_pods(self.selector)
            except KubeError as e:
                transient = e.reason == "kubernetes-unavailable" or (e.status or 0) in (
                    429,
                    500,
                    502,
                    503,
                    504,
                )
                waited = time.monotonic() - last_ok
                if not transient or waited > self.settings.api_grace:
                    raise KubeError(
                        f"{e.message} (following Job {self.where} for {waited:.0f}s)", e.reason
                    ) from None
                await self._sleep()
                continue
            last_ok = time.monotonic()
            if job is None:
                return Outcome(
                    False, "failed", f"Job {self.where} was deleted outside the registry"
                )
            await self._track(pods)
            done = _condition(job)
            if done is not None:
                return await self._finish(job, done)
            stuck = self._stuck(pods)
            if stuck is not None:
                await self._delete()
                return stuck
            await self._sleep()

    def _cancel_asked(self) -> bool:
        if self.hooks.cancel.is_set():
            return True
        now = time.monotonic()
        if now - self._last_beat >= 1.0:
            self._last_beat = now
            return self.hooks.heartbeat()
        return False

    async def _sleep(self) -> None:
        end = time.monotonic() + self.settings.poll_interval
        while time.monotonic() < end and not self.hooks.cancel.is_set():
            await asyncio.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _record(self, pod: str) -> dict[str, Any]:
        for a in self.attempts:
            if a.get("pod") == pod:
                return a
        n = len(self.attempts) + 1
        rec = {"attempt": n, "started_at": iso(utcnow()), "finished_at": None, "pod": pod}
        self.attempts.append(rec)
        self.hooks.running(True, f"attempt {n} of {self.limit + 1} is running")
        return rec

    async def _track(self, pods: list[dict[str, Any]]) -> None:
        """New pods start attempts; ended pods, their logs read, end them."""
        pods = sorted(pods, key=_created)
        self.current = {p["metadata"]["name"] for p in pods}
        for pod in pods:
            name = pod["metadata"]["name"]
            self.pods[name] = pod
            self.first_seen.setdefault(name, time.monotonic())
            rec = self._record(name)
            if rec.get("finished_at"):
                continue
            state = _container(pod)
            started = "running" in state or "terminated" in state
            if started and name not in self.followers:
                reader = LineReader(
                    rec["attempt"], self.redact, self.hooks.log, self.hooks.progress
                )
                self.readers[name] = reader
                self.followers[name] = asyncio.create_task(self._follow(name, reader, rec))
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                task = self.followers.get(name)
                if task is not None:
                    done, _ = await asyncio.wait({task}, timeout=self.settings.request_timeout)
                    if not done:
                        continue  # the rest of its log first
                self._end_attempt(rec, pod)

    async def _follow(self, pod: str, reader: LineReader, rec: dict[str, Any]) -> None:
        """Read the pod's log to its end; a stream that breaks is opened again, and the lines
        already read are skipped. The attempt's record counts the lines logged
        (``log_lines``, saved with it): a registry taking the Job over reads them again — the
        log is served from its start — but only to know them (the last words a failure
        quotes, the result), not to log them twice."""
        seen, logged = 0, int(rec.get("log_lines") or 0)
        while True:
            count = 0
            try:
                async for line in self.k8s.follow_log(pod):
                    count += 1
                    if count <= seen:
                        continue
                    seen = count
                    if count <= logged:
                        reader.feed(line, quiet=True)
                        continue
                    reader.feed(line)
                    reader.flush()
                    rec["log_lines"] = count  # after the lines are written: a crash repeats
            except KubeError as e:
                self.hooks.note(f"reading the log of pod {pod}: {self.redact(e.message)}")
            reader.flush()
            phase = (self.pods.get(pod, {}).get("status") or {}).get("phase")
            if pod not in self.current or (phase in ("Succeeded", "Failed") and count >= seen):
                return
            await asyncio.sleep(self.settings.poll_interval)

    def _pod_outcome(self, pod: dict[str, Any]) -> Outcome:
        name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        ended = _container(pod).get("terminated") or {}
        if status.get("reason") == "DeadlineExceeded":
            deadline = self.spec["policy"]["active_deadline_seconds"]
            return Outcome(
                False, "deadline", f"the attempt ran past active_deadline_seconds ({deadline}s)"
            )
        reader = self.readers.get(name)
        code = ended.get("exitCode")
        if reader is None:  # its log was never read
            if status.get("phase") == "Succeeded":
                return Outcome(True)
            reader = LineReader(0, self.redact, self.hooks.log, self.hooks.progress)
        outcome = reader.outcome(code, f"the transfer pod {name}")
        if not outcome.ok and outcome.reason == "killed":
            why = ended.get("reason") or status.get("reason")
            said = ended.get("message") or status.get("message")
            extra = ": ".join(str(x) for x in (why, said) if x)
            if extra:
                outcome.message += f" ({self.redact(extra)[:300]})"
        return outcome

    def _end_attempt(self, rec: dict[str, Any], pod: dict[str, Any]) -> None:
        outcome = self._pod_outcome(pod)
        rec.update(
            finished_at=iso(utcnow()),
            outcome="complete" if outcome.ok else "failed",
            reason=outcome.reason or None,
            message=outcome.message,
        )
        if outcome.ok:
            self.hooks.running(False, "finished")
            return
        n = rec["attempt"]
        self.hooks.note(f"attempt {n} failed ({outcome.reason}): {outcome.message}")
        self.hooks.running(False, f"attempt {n} failed: {outcome.message}")

    def _stuck(self, pods: list[dict[str, Any]]) -> Outcome | None:
        """A pod that has waited to start longer than ``start_timeout`` (an image that cannot
        be pulled, a claim that cannot be mounted, nowhere to schedule it) fails the transfer."""
        limit = self.settings.start_timeout
        for pod in pods:
            name = pod["metadata"]["name"]
            status = pod.get("status") or {}
            if status.get("phase") not in (None, "Pending"):
                continue
            if time.monotonic() - self.first_seen.get(name, time.monotonic()) < limit:
                continue
            waiting = _container(pod).get("waiting") or {}
            why = [waiting.get("reason"), waiting.get("message")]
            for c in status.get("conditions") or []:
                if c.get("type") == "PodScheduled" and c.get("status") == "False":
                    why = [c.get("reason"), c.get("message")]
            said = ": ".join(str(x) for x in why if x) or "still pending"
            message = f"the transfer pod {name} did not start within {limit:g}s ({said})"
            rec = self._record(name)
            rec.update(finished_at=iso(utcnow()), outcome="failed", reason="not-started",
                       message=self.redact(message))  # fmt: skip
            return Outcome(False, "not-started", self.redact(message))
        return None

    # -- the end ------------------------------------------------------------------------------
    async def _finish(self, job: dict[str, Any], cond: dict[str, Any]) -> Outcome:
        try:  # the last lines of the last pod, and pods that ended since the last look
            await self._track(await self.k8s.list_pods(self.selector))
        except KubeError as e:
            self.hooks.note(f"after Job {self.where} ended: {self.redact(e.message)}")
        await self._drop_secret()
        said = self.redact(f"{cond.get('reason') or ''}: {cond.get('message') or ''}".strip(": "))
        for rec in self.attempts:  # pods the Job ended, or never read
            if not rec.get("finished_at"):
                rec.update(finished_at=iso(utcnow()), outcome="failed", reason="failed",
                           message=f"the Job ended ({said})")  # fmt: skip
        if cond["type"] == "Complete":
            for name, reader in self.readers.items():
                if reader.final and reader.final.get("event") == "result":
                    return reader.outcome(0, f"the transfer pod {name}")
            return Outcome(True)
        failed = [a for a in self.attempts if a.get("outcome") == "failed"]
        counted = (job.get("status") or {}).get("failed") or 0
        for _ in range(counted - len(failed)):  # pods removed before the registry saw them
            n = len(self.attempts) + 1
            gone = "its pod was gone before the registry read it"
            self.attempts.append(
                {"attempt": n, "started_at": None, "finished_at": iso(utcnow()),
                 "outcome": "failed", "reason": "failed", "message": gone}
            )  # fmt: skip
        self.hooks.running(False, "stopped")
        if failed:
            last = failed[-1]
            return Outcome(False, last.get("reason") or "failed", last.get("message") or said)
        return Outcome(False, "failed", f"Job {self.where} failed ({said or 'no reason given'})")

    async def _drop_secret(self) -> None:
        if not self.secrets:
            return
        try:
            await self.k8s.delete_secret(self.name)
        except KubeError as e:  # the garbage collector removes it with the Job
            self.hooks.note(f"could not delete Secret {self.where}: {self.redact(e.message)}")

    async def _delete(self) -> None:
        try:
            await self.k8s.delete_job(self.name)
        except KubeError as e:
            self.hooks.note(f"could not delete Job {self.where}: {self.redact(e.message)}")
        await self._drop_secret()

    async def _cancel(self) -> Outcome:
        self.hooks.note(f"cancelling: deleting Job {self.where} and its pods")
        await self._delete()
        # its pods stop (SIGTERM, then their grace period) before the staging folder is removed
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if not await self.k8s.list_pods(self.selector):
                    break
            except KubeError:
                break
            await asyncio.sleep(min(1.0, self.settings.poll_interval))
        for rec in self.attempts:
            if not rec.get("finished_at"):
                rec.update(finished_at=iso(utcnow()), outcome="cancelled")
        return Outcome(False, "cancelled", "cancelled")
