"""The registry's options for where transfers run (``RegistryApp.transfer_backend`` and
``RegistryApp.transfer_kube_*``), mixed into :class:`~fermi_jupyter.registry.app.RegistryApp`."""

from __future__ import annotations

from traitlets import CaselessStrEnum, Dict, Float, HasTraits, Integer, TraitError, Unicode

from ...transfers.kube import PodUser
from .kubeapi import KubeSettings, default_namespace


class TransferBackendConfig(HasTraits):
    transfer_backend = CaselessStrEnum(
        ["local", "kubernetes"],
        "local",
        help="Where a transfer's attempts run: 'local' — child processes of the registry (one "
        "machine); 'kubernetes' — one Kubernetes Job per transfer in transfer_kube_namespace, "
        "mounting the storage claim (transfer_kube_storage_pvc), which the registry must mount "
        "too. The registry's service account then needs, there: jobs create/get/delete, "
        "secrets create/delete, pods list, pods/log get (docs/admin/kubernetes.md).",
    ).tag(config=True)
    transfer_kube_namespace = Unicode(
        "",
        help="Namespace of the transfer Jobs and their credential Secrets, e.g. jhub. Default: "
        "the registry pod's own namespace (from its service account), else 'default'.",
    ).tag(config=True)
    transfer_kube_image = Unicode(
        "",
        help="Image of the transfer Jobs' container: it runs `python -m "
        "fermi_jupyter.transfers.run`, so it needs fermi_jupyter[transfers] and git, e.g. "
        "your-registry/fermi-hub:0.1.0. Required with transfer_backend = 'kubernetes'.",
    ).tag(config=True)
    transfer_kube_storage_pvc = Unicode(
        "fermi-storage",
        help="The PersistentVolumeClaim holding the storage root (the one the registry mounts "
        "at storage_root); a Job mounts the volume's subPath of it, e.g. fermi-storage.",
    ).tag(config=True)
    transfer_kube_service_account = Unicode(
        "",
        help="Service account of the transfer pods, e.g. fermi-transfer. Its token is never "
        "mounted (automountServiceAccountToken: false). Empty: the namespace's default.",
    ).tag(config=True)
    transfer_kube_resources = Dict(
        {},
        help="Resources of the transfer container, as in a pod spec, e.g. {'requests': {'cpu': "
        "'500m', 'memory': '256Mi'}, 'limits': {'memory': '1Gi'}}. Empty: requests 500m/256Mi, "
        "limits 2 CPUs/1Gi.",
    ).tag(config=True)
    transfer_kube_ttl_seconds = Integer(
        3600,
        help="ttlSecondsAfterFinished of the transfer Jobs: Kubernetes removes a finished Job "
        "(and its pods) this many seconds after it ends, e.g. 3600. The registry has copied "
        "its log and deleted its Secret by then.",
    ).tag(config=True)
    transfer_kube_uid = Integer(
        1000,
        help="uid the transfer pods run as: the one the users' server pods write volumes with "
        "(KubeSpawner's uid; z2jh: 1000). Never 0.",
    ).tag(config=True)
    transfer_kube_gid = Integer(100, help="gid of the transfer pods (z2jh: 100).").tag(config=True)
    transfer_kube_fs_gid = Integer(
        100, help="fsGroup of the transfer pods (KubeSpawner's fs_gid; z2jh: 100)."
    ).tag(config=True)
    transfer_kube_config = Unicode(
        "",
        help="A kubeconfig file for the Kubernetes API, e.g. /etc/fermi/kubeconfig. Empty: the "
        "pod's service account (in a cluster), else the default kubeconfig (~/.kube/config, "
        "$KUBECONFIG).",
    ).tag(config=True)
    transfer_kube_poll_interval = Float(
        2.0, help="Seconds between looks at a running transfer Job and its pods, e.g. 2."
    ).tag(config=True)
    transfer_kube_request_timeout = Float(
        30.0,
        help="Seconds a call to the Kubernetes API may take before it counts as unanswered, "
        "e.g. 30.",
    ).tag(config=True)
    transfer_kube_start_timeout = Float(
        600.0,
        help="Seconds a transfer pod may wait to start (image pull, scheduling, mounting the "
        "claim) before the transfer fails with the pod's reason, e.g. 600.",
    ).tag(config=True)
    transfer_kube_api_grace = Float(
        60.0,
        help="Seconds a running transfer waits out an unreachable Kubernetes API before it "
        "fails, e.g. 60. Submitting a transfer never waits: an API that cannot be reached "
        "fails it at once, with the reason.",
    ).tag(config=True)

    def kube_settings(self) -> KubeSettings | None:
        """The settings of the 'kubernetes' backend; None for 'local'."""
        if self.transfer_backend != "kubernetes":
            return None
        if not self.transfer_kube_image:
            raise TraitError(
                "RegistryApp.transfer_kube_image is required with transfer_backend = 'kubernetes'"
            )
        return KubeSettings(
            namespace=self.transfer_kube_namespace or default_namespace(),
            image=self.transfer_kube_image,
            storage_pvc=self.transfer_kube_storage_pvc,
            service_account=self.transfer_kube_service_account or None,
            resources=dict(self.transfer_kube_resources) or None,
            ttl_seconds_after_finished=self.transfer_kube_ttl_seconds,
            pod_user=PodUser(
                self.transfer_kube_uid, self.transfer_kube_gid, self.transfer_kube_fs_gid
            ),
            config_file=self.transfer_kube_config,
            poll_interval=self.transfer_kube_poll_interval,
            request_timeout=self.transfer_kube_request_timeout,
            start_timeout=self.transfer_kube_start_timeout,
            api_grace=self.transfer_kube_api_grace,
        )
