"""The registry as JupyterHub runs it — a managed service — killed mid-copy: the hub starts
it again (at its next poll of the service, up to 30 s later) and the new process resumes the
registration it finds left behind."""

from __future__ import annotations

from ..support.registry_process import kill_tree, service_pid, wait_paused
from ..support.trees import content_map, independent_digest, wait_version
from .flows import events, register, source


def test_the_hub_restarts_a_killed_registry_which_resumes_the_job(fault_hub, alice):
    hub = fault_hub
    pause = hub.pause_dir  # type: ignore[attr-defined]
    with hub.client(alice) as c:  # through the proxy, as users reach it
        src = source(c, hub.storage_root, "hub-restart", 3000)
        digest, content = independent_digest(src.path), content_map(src.path)
        (pause / "arm-copying").touch()
        number, job_id = register(c, src)
    marker = wait_paused(pause, "copying", job_id, timeout=60)
    pid = service_pid(hub)
    (pause / "arm-copying").unlink()
    kill_tree(pid)
    marker.unlink()

    hub.wait_ready(timeout=90)  # the hub notices and starts it again
    assert service_pid(hub) != pid
    with hub.client(alice) as c:
        v = wait_version(c, src.dataset_id, number, timeout=120)
        job = c.get(f"/jobs/{job_id}").json()
    assert v["status"] == "ready", v
    assert v["digest"] == digest[0]
    assert content_map(hub.storage_root / "datasets" / src.dataset_id / str(number)) == content
    assert events(job)[-3:] == ["crashed", "resumed", "done"]
