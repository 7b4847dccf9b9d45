"""The ``transfer`` job kind: attempts as child processes, with DataCube's execution policy —
or, with ``RegistryApp.transfer_backend = 'kubernetes'``, as a Kubernetes Job (:mod:`.kubejob`),
whose attempts Kubernetes runs; what comes before and after them is the same.

Each attempt is a child process (:mod:`.attempt`) that dies with the registry. The registry
enforces ``active_deadline_seconds`` per attempt and retries up to ``backoff_limit`` times with
growing pauses (as a Kubernetes Job does); permanent failures (bad credentials, nothing there)
are not retried. An attempt cut short by a registry that died counts as failed: the next
registry resumes with the next attempt, or fails the transfer when none is left. The child runs
as the volume's owner, never as root (:mod:`.runas`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ...domain.identity import Identity
from ...transfers import spec as specmod
from ...transfers.errors import PERMANENT
from ...transfers.staging import remove_stale
from .. import credentials as creds
from .. import storage
from ..errors import RegistryError
from ..events import Publisher
from ..orm import Job, Version, utcnow
from ..serialize import iso
from . import runas
from .attempt import Attempt, Outcome
from .kubeapi import KubeSettings
from .manager import log_path
from .models import Transfer

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
MAX_PAUSE = 300.0


def set_condition(conds: list[dict], kind: str, status: bool, message: str = "") -> list[dict]:
    """DataCube-style conditions: one entry per type, with the time it last changed."""
    now = iso(utcnow())
    out = [dict(c) for c in conds]
    for c in out:
        if c["type"] == kind:
            if c["status"] != ("True" if status else "False"):
                c["last_transition_time"] = now
            c.update(status="True" if status else "False", message=message, last_probe_time=now)
            return out
    out.append(
        {
            "type": kind,
            "status": "True" if status else "False",
            "message": message,
            "last_probe_time": now,
            "last_transition_time": now,
        }
    )
    return out


def _spent(attempts: list[dict[str, Any]]) -> int:
    """Attempts that count against the retry limit: a registry restart never does."""
    return sum(1 for a in attempts if a.get("reason") != "interrupted")


class TransferService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        layout: storage.StorageLayout,
        publish: Publisher,
        vault: creds.Vault,
        *,
        retry_delay: float = 10.0,
        python: str = sys.executable,
        user: str = "nobody",
        allow_loopback: bool = False,
        kube: KubeSettings | None = None,
    ):
        self.sessions = sessions
        self.layout = layout
        self.publish = publish
        self.vault = vault
        self.retry_delay = retry_delay
        self.python = python
        self.user = user  # who runs a transfer when no volume owner is known (see runas)
        self.allow_loopback = allow_loopback
        self.kube = kube  # None: attempts run here as child processes; else as Kubernetes Jobs
        self.runner: Any = None  # set by the app: imports register their version through it
        runas.sweep_homes()  # those of a registry killed during an attempt

    # -- the job ----------------------------------------------------------------------------
    def run(self, layout, db, job: Job, v, progress, cancel: threading.Event) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        tid = job.params["transfer_id"]
        with self.sessions() as s:
            t = s.get(Transfer, tid)
            if t is None:
                raise RegistryError(f"transfer {tid} no longer exists")
            spec, owner, cred_id, attempts = (
                t.spec,
                t.owner,
                t.credential_id,
                list(t.attempts or []),
            )
            conds = list(t.conditions or [])
        if self.kube is None:  # (a Job's pod may still be running, and using its staging folder)
            if attempts and attempts[-1].get("finished_at") is None:
                attempts[-1].update(
                    finished_at=iso(utcnow()),
                    outcome="failed",
                    reason="interrupted",
                    message="the registry stopped during this attempt",
                )
                self._log(tid, f"attempt {attempts[-1]['attempt']}: the registry stopped during it")
            self._clean_staging(spec, tid)
        remote = specmod.remote_of(spec)
        run_as = None
        try:
            with self.sessions() as s:
                if remote.get("credential") and cred_id is None:
                    raise RegistryError(
                        f"credential {remote['credential']!r} was deleted",
                        reason="credential-not-found",
                    )
                secrets = creds.values_for(s, self.vault, owner, cred_id)
                local_root = self._local_root(s, spec)
            if self.kube is None:
                run_as = runas.choose(self.layout, spec, local_root, self.user)
                runas.check_python(self.python, run_as)
        except RegistryError as e:
            return self._fail(tid, conds, attempts, e.reason, e.message)
        conds = set_condition(conds, "Initialized", True, "The transfer is initialized")
        if self.kube is not None:
            outcome, conds = self._run_job(job, tid, spec, owner, secrets, local_root, conds,
                                           attempts, cancel)  # fmt: skip
        else:
            outcome, conds = self._run_local(job, tid, spec, secrets, local_root, run_as, conds,
                                             attempts, cancel)  # fmt: skip
        if not outcome.ok:
            return self._fail(tid, conds, attempts, outcome.reason, outcome.message)
        result = dict(outcome.result)
        if spec.get("dataset"):
            try:
                result["version"] = self._register(tid, spec, owner, result)
            except RegistryError as e:
                return self._fail(
                    tid, conds, attempts, e.reason, f"downloaded, but not registered: {e.message}"
                )
        conds = set_condition(conds, "Running", False, "finished")
        conds = set_condition(conds, "Complete", True, "The transfer is complete")
        conds = set_condition(conds, "Failed", False)
        self._save(
            tid,
            state="complete",
            conditions=conds,
            attempts=attempts,
            result=result,
            version_ref=result.get("version"),
            finished_at=utcnow(),
            reason=None,
            error=None,
        )
        self._log(tid, "complete")
        return result

    def _run_local(self, job: Job, tid: str, spec: dict, secrets: dict, local_root: Path,
                   run_as: Any, conds: list, attempts: list,
                   cancel: threading.Event) -> tuple[Outcome, list]:  # fmt: skip
        """Attempts as child processes, with the policy's retries, pauses and deadline."""
        limit = spec["policy"]["backoff_limit"]
        outcome = Outcome(False, "interrupted", "the registry stopped during this attempt")
        while _spent(attempts) <= limit:
            self._check_stopping(tid, attempts)
            if cancel.is_set() or self._cancelling(job.id):
                return self._cancelled(tid, conds, attempts, spec)
            if attempts:
                pause = min(MAX_PAUSE, self.retry_delay * 2 ** max(0, _spent(attempts) - 1))
                self._log(
                    tid, f"retrying in {pause:g}s (attempt {len(attempts) + 1} of {limit + 1})"
                )
                if self._wait(job.id, cancel, pause):
                    return self._cancelled(tid, conds, attempts, spec)
            n = len(attempts) + 1
            attempts.append({"attempt": n, "started_at": iso(utcnow()), "finished_at": None})
            conds = set_condition(conds, "Running", True, f"attempt {n} of {limit + 1} is running")
            self._save(tid, state="running", conditions=conds, attempts=attempts)
            outcome = Attempt(
                self.python,
                spec,
                local_root,
                tid,
                n,
                secrets,
                log=lambda text: self._log(tid, text, stamp=False),
                progress=lambda values: self._save(tid, **values),
                heartbeat=lambda: self._heartbeat(job.id),
                cancel=cancel,
                run_as=run_as,
                allow_loopback=self.allow_loopback,
            ).run()
            attempts[-1].update(
                finished_at=iso(utcnow()),
                outcome="complete" if outcome.ok else "failed",
                reason=outcome.reason or None,
                message=outcome.message,
            )
            if outcome.ok:
                break
            self._check_stopping(tid, attempts)
            self._log(tid, f"attempt {n} failed ({outcome.reason}): {outcome.message}")
            if outcome.reason == "cancelled":
                return self._cancelled(tid, conds, attempts, spec)
            if outcome.reason in ("deadline", "interrupted", "killed"):
                self._clean_staging(spec, tid)
            conds = set_condition(conds, "Running", False, f"attempt {n} failed: {outcome.message}")
            self._save(tid, conditions=conds, attempts=attempts)
            if outcome.reason in PERMANENT:
                break
        return outcome, conds

    def _run_job(self, job: Job, tid: str, spec: dict, owner: str, secrets: dict,
                 local_root: Path, conds: list, attempts: list,
                 cancel: threading.Event) -> tuple[Outcome, list]:  # fmt: skip
        """The transfer as a Kubernetes Job (:mod:`.kubejob`): Kubernetes runs the attempts."""
        from .kubejob import Hooks, KubeTransfer, Stopping

        box = {"conds": conds}

        def running(status: bool, message: str) -> None:
            box["conds"] = set_condition(box["conds"], "Running", status, message)
            self._save(tid, state="running", conditions=box["conds"], attempts=attempts)

        local = specmod.local_of(spec)
        try:
            subpath = str(local_root.relative_to(self.layout.root))
        except ValueError:
            return Outcome(False, "invalid", f"{local_root} is not on the storage claim"), conds
        hooks = Hooks(
            log=lambda text: self._log(tid, text, stamp=False),
            note=lambda text: self._log(tid, text),
            # with the attempts: their count of log lines logged moves on with the progress
            progress=lambda values: self._save(tid, attempts=attempts, **values),
            running=running,
            heartbeat=lambda: self._heartbeat(job.id),
            cancel=cancel,
            stopping=lambda: self.runner is not None and self.runner.stopping,
        )
        self._save(tid, state="running", conditions=conds, attempts=attempts)
        try:
            outcome = KubeTransfer(
                self.kube, spec, tid=tid, owner=owner, secrets=secrets, subpath=subpath,
                read_only=local["type"] == "dataset", attempts=attempts, hooks=hooks,
                allow_loopback=self.allow_loopback,
            ).run()  # fmt: skip
        except Stopping:
            self._save(tid, attempts=attempts)
            raise storage.Cancelled() from None
        conds = box["conds"]
        if outcome.reason == "cancelled":
            self._cancelled(tid, conds, attempts, spec)
        if not outcome.ok:
            self._clean_staging(spec, tid)  # the Job has ended: none of its pods writes there
        return outcome, conds

    def _check_stopping(self, tid: str, attempts: list) -> None:
        """The registry is stopping (not a user's cancel): the job goes back to the queue and
        the attempt counts as interrupted, never against the transfer's retry limit."""
        if self.runner is None or not self.runner.stopping:
            return
        if attempts and attempts[-1].get("outcome") != "complete":
            attempts[-1].update(
                finished_at=iso(utcnow()),
                outcome="failed",
                reason="interrupted",
                message="the registry stopped during this attempt",
            )
            self._save(tid, attempts=attempts)
        raise storage.Cancelled()

    def _fail(self, tid: str, conds: list, attempts: list, reason: str, message: str) -> dict:
        conds = set_condition(conds, "Running", False, "stopped")
        conds = set_condition(conds, "Failed", True, message)
        self._save(
            tid,
            state="failed",
            conditions=conds,
            attempts=attempts,
            reason=reason,
            error=message,
            finished_at=utcnow(),
        )
        self._log(tid, f"failed ({reason}): {message}")
        raise RegistryError(message, reason=reason)

    def _cancelled(self, tid: str, conds: list, attempts: list, spec: dict) -> dict:
        if attempts and attempts[-1].get("finished_at") is None:
            attempts[-1].update(finished_at=iso(utcnow()), outcome="cancelled")
        self._clean_staging(spec, tid)
        conds = set_condition(conds, "Running", False, "cancelled")
        conds = set_condition(conds, "Failed", True, "cancelled")
        self._save(
            tid,
            state="cancelled",
            conditions=conds,
            attempts=attempts,
            reason="cancelled",
            error="cancelled",
            finished_at=utcnow(),
        )
        self._log(tid, "cancelled")
        raise storage.Cancelled()

    # -- one attempt --------------------------------------------------------------------------
    # -- helpers ------------------------------------------------------------------------------
    def _local_root(self, s: Session, spec: dict) -> Path:
        from ..jobs.tasks import version_tree
        from ..managers.versions import select_version
        from ..orm import Dataset

        local = specmod.local_of(spec)
        if local["type"] == "volume":
            return self.layout.volume_dir(local["volume_id"])
        ds_id, _, number = local["version"].partition("@")
        ds = s.get(Dataset, ds_id)
        if ds is None:
            raise RegistryError(f"dataset {ds_id} no longer exists", reason="not-found")
        return version_tree(self.layout, s, select_version(s, ds, number))

    def _target(self, spec: dict) -> Path | None:
        local = specmod.local_of(spec)
        if spec["direction"] != "download" or local["type"] != "volume":
            return None
        try:
            path = storage.confine(
                self.layout.volume_dir(local["volume_id"]), local["path"], must_exist=False
            )
        except storage.StorageError:
            return None
        remote = specmod.remote_of(spec)
        return path / remote["dir"] if remote["type"] == "git" else path

    def _clean_staging(self, spec: dict, tid: str) -> None:
        target = self._target(spec)
        if target is not None:
            remove_stale(target, tid)

    def _save(self, tid: str, **values: Any) -> None:
        with self.sessions() as s:
            s.execute(update(Transfer).where(Transfer.id == tid).values(**values))
            t = s.get(Transfer, tid)
            s.commit()
            if t is not None:
                self.publish(event_of(t))

    def _heartbeat(self, job_id: int) -> bool:
        """Tell other registries this job is alive; True when someone asked to cancel it."""
        with self.sessions() as s:
            s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
            state = s.scalar(select(Job.state).where(Job.id == job_id))
            s.commit()
        return state == "cancelling"

    def _cancelling(self, job_id: int) -> bool:
        with self.sessions() as s:
            return s.scalar(select(Job.state).where(Job.id == job_id)) == "cancelling"

    def _wait(self, job_id: int, cancel: threading.Event, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if cancel.wait(min(1.0, max(0.0, end - time.monotonic()))) or self._heartbeat(job_id):
                return True
        return False

    def _log(self, tid: str, text: str, stamp: bool = True) -> None:
        path = log_path(self.layout, tid)
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) if stamp else ""
        with open(path, "a", encoding="utf-8") as f:
            f.write(prefix + text + "\n")

    def _register(self, tid: str, spec: dict, owner: str, result: dict) -> str:
        """Import as a dataset: register the downloaded folder as a new version, with provenance."""
        from ..managers import datasets as datasets_mgr
        from ..managers import versions as versions_mgr

        target = dict(spec["dataset"])
        local = specmod.local_of(spec)
        who = Identity(name=owner)
        with self.sessions() as s:
            if target.get("id"):
                ds = datasets_mgr.resolve(s, who, target["id"])
            else:
                body = {
                    k: target[k]
                    for k in ("name", "description", "data_type", "visibility", "tags")
                    if k in target
                }
                ds = datasets_mgr.create(s, who, body)
            remote = specmod.remote_of(spec)
            source = specmod.describe(remote, result.get("revision"))
            message = target.get("message") or f"imported from {source}"
            path = result.get("path") or local["path"]
            v = versions_mgr.register(
                s,
                self.runner,
                self.layout,
                who,
                ds,
                {"volume_id": local["volume_id"], "path": path, "message": message},
            )
            s.execute(
                update(Version)
                .where(Version.id == v.id)
                .values(provenance={"source": source, "transfer": tid})
            )
            s.commit()
            return v.ref

    def sweep(self) -> int:
        """Transfers whose job ended without them (a job failed by recovery, a queued job
        cancelled): give them the job's outcome and remove their staging folders."""
        touched = 0
        with self.sessions() as s:
            rows = s.execute(
                select(Transfer, Job.state, Job.error)
                .outerjoin(Job, Job.id == Transfer.job_id)
                .where(Transfer.state.in_(("pending", "running")))
            ).all()
            for t, job_state, job_error in rows:
                if job_state in ("queued", "running", "cancelling"):
                    continue
                state = "cancelled" if job_state == "cancelled" else "failed"
                message = job_error or (
                    "cancelled" if state == "cancelled" else "the transfer's job was lost"
                )
                t.state, t.error, t.reason, t.finished_at = (
                    state,
                    message,
                    state if state == "cancelled" else "interrupted",
                    utcnow(),
                )
                t.conditions = set_condition(
                    set_condition(t.conditions or [], "Running", False, "stopped"),
                    "Failed",
                    True,
                    message,
                )
                self._clean_staging(t.spec, t.id)
                touched += 1
            s.commit()
            for t, *_ in rows:
                if t.state in ("failed", "cancelled"):
                    self.publish(event_of(t))
        return touched


def event_of(t: Transfer) -> dict[str, Any]:
    return {
        "type": "transfer",
        "id": t.id,
        "state": t.state,
        "direction": t.direction,
        "tool": t.tool,
        "attempts": len(t.attempts or []),
        "reason": t.reason,
        "error": t.error,
        "progress": {
            "files_done": t.files_done,
            "bytes_done": t.bytes_done,
            "files_total": t.files_total,
            "bytes_total": t.bytes_total,
        },
        "version": t.version_ref,
        "_acl": (t.owner, None, "private"),
    }
