"""No cluster runs here: a throwaway kubeconfig pointing at a closed loopback port lets the
real KubeSpawner code build pods (``get_pod_manifest`` opens no connection)."""

import os
import tempfile

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: none
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: nobody
  user: {token: "not-a-cluster"}
contexts:
- name: none
  context: {cluster: none, user: nobody, namespace: fermi}
current-context: none
"""

_fd, _path = tempfile.mkstemp(prefix="fermi-kubeconfig-")
with os.fdopen(_fd, "w") as f:
    f.write(KUBECONFIG)
# kubernetes_asyncio reads $KUBECONFIG once, when imported: set both
os.environ["KUBECONFIG"] = _path
import kubernetes_asyncio.config.kube_config as _kube_config  # noqa: E402

_kube_config.KUBE_CONFIG_DEFAULT_LOCATION = _path
