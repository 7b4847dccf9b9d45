"""Kubernetes objects for a transfer: a Job running one attempt per pod, and the Secret holding
the credential it uses. Pure functions: no client, no cluster.

The policy maps to Kubernetes' own fields: ``backoff_limit`` → the Job's ``backoffLimit``;
``active_deadline_seconds`` is *per attempt* (as in DataCube), so it goes on the pod template
(``spec.template.spec.activeDeadlineSeconds``) — a Job's own ``activeDeadlineSeconds`` would
bound all attempts together. Permanent failures (exit status 2: bad credentials, nothing there)
fail the Job at once through a ``podFailurePolicy``, as the local runner does not retry them.
The volume is the storage PVC mounted at the volume's ``subPath`` (a dataset version: its
folder, read-only); the credential reaches the container as environment variables from a Secret,
never in the manifest, the command line or the spec.

The pod runs as the user's servers do (:class:`PodUser`: KubeSpawner's ``uid``, ``gid``,
``fs_gid`` and ``supplemental_gids``), never as root: ``runAsNonRoot``, no privilege escalation,
every capability dropped, a read-only root filesystem — so files it downloads belong to the uid
the user's server writes the volume with, and it reads only what that uid may.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .context import SECRET_ENV
from .run import EXIT_PERMANENT

MOUNT = "/data"
CONTAINER = "transfer"


@dataclass(frozen=True)
class PodUser:
    """Whom a transfer pod runs as: the identity the users' server pods have (z2jh's
    ``singleuser`` defaults: uid 1000, gid 100, fsGroup 100). Root is refused."""

    uid: int = 1000
    gid: int = 100
    fs_gid: int | None = 100
    supplemental_groups: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        ids = [self.uid, self.gid, *self.supplemental_groups]
        if self.fs_gid is not None:
            ids.append(self.fs_gid)
        if any(not isinstance(i, int) or isinstance(i, bool) or i <= 0 for i in ids):
            raise ValueError(
                f"a transfer pod runs as an unprivileged uid and groups, not {ids}: "
                "root (0) and negative ids are refused"
            )

    @classmethod
    def of_spawner(cls, spawner: Any) -> PodUser:
        """The identity a KubeSpawner gives its pods (uid/gid/fs_gid/supplemental_gids when
        they are numbers; z2jh's defaults otherwise)."""
        d = cls()
        uid, gid, fs = spawner.uid, spawner.gid, spawner.fs_gid
        groups = spawner.supplemental_gids
        return cls(
            uid if isinstance(uid, int) else d.uid,
            gid if isinstance(gid, int) else d.gid,
            fs if isinstance(fs, int) else d.fs_gid,
            tuple(groups) if isinstance(groups, list | tuple) else (),
        )

    def pod_context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "runAsNonRoot": True,
            "runAsUser": self.uid,
            "runAsGroup": self.gid,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        if self.fs_gid is not None:
            ctx["fsGroup"] = self.fs_gid
            # never a recursive chgrp of the whole storage claim on every mount
            ctx["fsGroupChangePolicy"] = "OnRootMismatch"
        if self.supplemental_groups:
            ctx["supplementalGroups"] = list(self.supplemental_groups)
        return ctx

    def container_context(self) -> dict[str, Any]:
        return {
            "runAsNonRoot": True,
            "runAsUser": self.uid,
            "runAsGroup": self.gid,
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }


def _label(value: str) -> str:
    """A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", value)[:63].strip("-_.")
    return cleaned or "x"


def object_name(transfer_id: str) -> str:
    return f"fermi-transfer-{transfer_id.lower()}"[:63].rstrip("-")


def labels(transfer_id: str, owner: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "fermi-transfer",
        "app.kubernetes.io/managed-by": "fermi-registry",
        "fermi.io/transfer": _label(transfer_id),
        "fermi.io/owner": _label(owner),
    }


def credential_secret(
    transfer_id: str, owner: str, values: dict[str, str], *, namespace: str
) -> dict[str, Any]:
    """The Secret a transfer Job reads its credential from (created just before the Job, with
    the Job as its owner so both go together)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": object_name(transfer_id),
            "namespace": namespace,
            "labels": labels(transfer_id, owner),
        },
        "type": "Opaque",
        "stringData": {SECRET_ENV[k]: v for k, v in values.items() if k in SECRET_ENV},
    }


def transfer_job(
    spec: dict[str, Any],
    *,
    transfer_id: str,
    owner: str,
    image: str,
    storage_pvc: str,
    subpath: str,
    read_only: bool,
    namespace: str,
    secret_fields: list[str] | None = None,
    resources: dict[str, Any] | None = None,
    ttl_seconds_after_finished: int = 3600,
    service_account: str | None = None,
    user: PodUser | None = None,
    allow_loopback: bool = False,
) -> dict[str, Any]:
    """A ``batch/v1`` Job for ``spec`` (a validated spec, see :mod:`.spec`).

    ``subpath``: the local side under the storage PVC (``volumes/<vol-id>``, or a version's
    folder); ``secret_fields``: which credential fields the Secret holds; ``user``: whom the
    pod runs as (:meth:`PodUser.of_spawner` of the hub's spawner; default z2jh's);
    ``allow_loopback``: the registry's ``transfer_allow_loopback`` (tests and demos), which the
    program checks the hosts with again, as the local child does.
    """
    user = user or PodUser()
    policy = spec["policy"]
    child = {**spec, "local_root": MOUNT, "tag": transfer_id}
    if allow_loopback:
        child["allow_loopback"] = True
    env: list[dict[str, Any]] = [{"name": "FERMI_TRANSFER_SPEC", "value": json.dumps(child)}]
    env += [{"name": k, "value": v} for k, v in sorted(policy["env"].items())]
    secret = object_name(transfer_id)
    for field in secret_fields or []:
        key = SECRET_ENV[field]
        env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": user.pod_context(),
        "containers": [
            {
                "name": CONTAINER,
                "image": image,
                "command": ["python", "-m", "fermi_jupyter.transfers.run"],
                "env": env,
                "volumeMounts": [
                    {"name": "data", "mountPath": MOUNT, "subPath": subpath, "readOnly": read_only},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
                "securityContext": user.container_context(),
                "resources": resources
                or {
                    "requests": {"cpu": "500m", "memory": "256Mi"},
                    "limits": {"cpu": "2", "memory": "1Gi"},
                },
            }
        ],
        "volumes": [
            {
                "name": "data",
                "persistentVolumeClaim": {"claimName": storage_pvc, "readOnly": read_only},
            },
            {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
        ],
    }
    if policy.get("active_deadline_seconds"):
        pod_spec["activeDeadlineSeconds"] = policy["active_deadline_seconds"]  # per attempt
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    meta = {
        "name": object_name(transfer_id),
        "namespace": namespace,
        "labels": labels(transfer_id, owner),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": policy["backoff_limit"],
            "ttlSecondsAfterFinished": ttl_seconds_after_finished,
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {
                            "containerName": CONTAINER,
                            "operator": "In",
                            "values": [EXIT_PERMANENT],
                        },
                    }
                ]
            },
            "template": {"metadata": {"labels": labels(transfer_id, owner)}, "spec": pod_spec},
        },
    }
