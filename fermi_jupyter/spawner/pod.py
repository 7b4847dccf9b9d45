"""Rendering a mount plan into Pod ``volumes``/``volumeMounts``, env and affinity.

Two pod volumes point at the one storage PVC: a read-only one for datasets (``readOnly`` on
the claim *and* on every mount) and a read-write one for work volumes. Each mount is a
``subPath`` of the storage root.
"""

from __future__ import annotations

from typing import Any

from .plan import PlannedMount, to_env, zone_of

RO, RW = "fermi-datasets", "fermi-volumes"


def pod_storage(plan: list[PlannedMount], pvc: str) -> tuple[list[dict], list[dict]]:
    volumes, mounts = [], []
    if any(m.kind == "dataset" for m in plan):
        volumes.append({"name": RO, "persistentVolumeClaim": {"claimName": pvc, "readOnly": True}})
    if any(m.kind == "volume" for m in plan):
        volumes.append({"name": RW, "persistentVolumeClaim": {"claimName": pvc}})
    for m in plan:
        dataset = m.kind == "dataset"
        mounts.append(
            {
                "name": RO if dataset else RW,
                "mountPath": m.mount_path,
                "subPath": m.source,
                "readOnly": True
                if dataset
                else m.read_only,  # datasets: always, whatever was asked
            }
        )
    return volumes, mounts


def annotations(plan: list[PlannedMount]) -> dict[str, str]:
    refs = [m.ref for m in plan if m.kind == "dataset" and m.ref]
    return {"fermi.io/datasets": ",".join(refs)} if refs else {}


def zone_affinity(
    plan: list[PlannedMount], label: str = "topology.kubernetes.io/zone"
) -> list[dict]:
    zone = zone_of(plan)
    if not zone:
        return []
    return [{"matchExpressions": [{"key": label, "operator": "In", "values": [zone]}]}]


def environment(plan: list[PlannedMount], registry_url: str) -> dict[str, Any]:
    return {"FERMI_MOUNTS": to_env(plan), "FERMI_REGISTRY_URL": registry_url}
