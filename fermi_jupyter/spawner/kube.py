"""``FermiSpawner``: KubeSpawner plus a validated mount plan rendered into the pod.

This release renders plans into pods (volumes, read-only dataset mounts, FERMI_MOUNTS, zone
affinity, annotations); the spawn form that builds plans from the user's choices comes next.
"""

from __future__ import annotations

from kubespawner import KubeSpawner
from traitlets import Unicode

from . import pod
from .plan import PlannedMount, check_plan


class FermiSpawner(KubeSpawner):
    storage_pvc = Unicode(
        "fermi-storage",
        help="The ReadWriteMany PVC holding the storage root (volumes/, datasets/), e.g. "
        "fermi-storage. Every mount is a subPath of it.",
    ).tag(config=True)
    registry_url = Unicode(
        "http://proxy-public/services/fermi-registry/api/v1",
        help="Registry URL as servers reach it, handed to them as FERMI_REGISTRY_URL.",
    ).tag(config=True)
    zone_label = Unicode(
        "topology.kubernetes.io/zone",
        help="Node label naming a node's zone; pods go to the zone of the data they mount.",
    ).tag(config=True)

    def apply_plan(self, plan: list[PlannedMount]) -> None:
        """Validate the plan as a whole and render it into this spawner's pod settings."""
        check_plan(plan)
        volumes, mounts = pod.pod_storage(plan, self.storage_pvc)
        self.volumes = [v for v in self.volumes if v.get("name") not in (pod.RO, pod.RW)] + volumes
        self.volume_mounts = [
            m for m in self.volume_mounts if m.get("name") not in (pod.RO, pod.RW)
        ] + mounts
        # KubeSpawner expands {placeholders} in env values: keep the JSON's braces literal
        env = {
            k: v.replace("{", "{{").replace("}", "}}")
            for k, v in pod.environment(plan, self.registry_url).items()
        }
        self.environment = {**self.environment, **env}
        self.extra_annotations = {**self.extra_annotations, **pod.annotations(plan)}
        affinity = pod.zone_affinity(plan, self.zone_label)
        if affinity:
            self.node_affinity_required = affinity
