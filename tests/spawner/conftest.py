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


# -- the local sandbox: the servers' runtime and user, as scripts/setup.sh makes them ----------
import pwd  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def server_python() -> str:
    built = REPO / ".work" / "server-python"
    if built.exists():
        return built.read_text().strip()
    if os.geteuid() != 0:
        return sys.executable  # servers run as the hub's own user, who can read it
    raise RuntimeError("no servers' runtime: run scripts/setup.sh (it builds .work/server-venv)")


@pytest.fixture(scope="session")
def server_ids() -> tuple[int, int]:
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    entry = pwd.getpwnam("fermi-server")  # scripts/setup.sh creates it
    return entry.pw_uid, entry.pw_gid
