"""Profile limits on one machine, for real: a sandboxed process in a 256 MiB group that
allocates 1 GiB is killed by the kernel and the kill is counted; a 1-CPU group's quota is in
force (the kernel throttles two busy processes). The v2 layout and the "nothing writable" case
are checked against hierarchies described by a mountinfo file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fermi_jupyter.spawner import cgroups, runtime
from fermi_jupyter.spawner.cgroups import Limits
from fermi_jupyter.spawner.local_profiles import local_profiles, render_profiles
from fermi_jupyter.spawner.sandbox import bwrap_args

HOG = "b = bytearray(1 << 30)\nprint('survived')\n"  # bytearray touches every page
BUSY = textwrap.dedent("""
    import multiprocessing, time
    def spin():
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass
    ps = [multiprocessing.Process(target=spin) for _ in range(2)]
    [p.start() for p in ps]; [p.join() for p in ps]
""")


@pytest.fixture(scope="module")
def hierarchy():
    h = cgroups.detect()
    assert h is not None, "this machine has writable cgroups (v1 or v2): see TOOLCHAIN.md"
    return h


def run_in_group(group, script: str, server_python: str, server_ids) -> subprocess.CompletedProcess:
    uid, gid = server_ids
    rt = runtime.probe(server_python, uid, gid)
    home = Path("/tmp")  # a scratch home: the test writes nothing there
    procs = group.dirs.get("cpu", group.dirs.get("memory")) / "cgroup.procs"
    args = bwrap_args(
        [], home_source=str(home), home="/home/jovyan", runtime=rt.paths,
        files=[(str(procs), "/run/group.procs")],
    )  # fmt: skip

    def preexec() -> None:
        group.join()
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    return subprocess.run(
        [*args, rt.python, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        preexec_fn=preexec,
    )


def test_a_256_mib_profile_stops_a_1_gib_allocation(hierarchy, server_python, server_ids):
    group = hierarchy.create(cgroups.group_name("test", "oom"), Limits(memory=256 * 2**20))
    try:
        r = run_in_group(group, HOG, server_python, server_ids)
        assert "survived" not in r.stdout
        assert r.returncode != 0
        assert group.oom_kills() >= 1  # the kernel's own count: it was the limit
    finally:
        assert group.remove()


def test_a_1_cpu_profile_has_its_quota_in_force(hierarchy, server_python, server_ids):
    group = hierarchy.create(cgroups.group_name("test", "cpu"), Limits(cpu=1))
    try:
        cpu = group.dirs["cpu"]
        if hierarchy.version == 1:
            assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "100000"
            assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
        else:
            assert (cpu / "cpu.max").read_text().split() == ["100000", "100000"]
        # every process of the sandbox is in the group (the kernel's list, seen from the host)
        r = run_in_group(group, WHERE, server_python, server_ids)
        assert r.stdout.split() == ["in-group"] * 3, r.stderr
    finally:
        assert group.remove()


# sandboxed processes (bwrap, its init, the python and a child) report whether the host
# lists them in the group: the sandbox sees its cgroup as "/" (a cgroup namespace), so ask
# the group's own process list, bound in for the test
WHERE = textwrap.dedent("""
    import os, subprocess
    procs = open("/run/group.procs").read().split()
    print("in-group" if procs else "empty")
    print("in-group" if len(procs) >= 2 else "alone")
    out = subprocess.run(["cat", "/run/group.procs"], capture_output=True, text=True).stdout
    print("in-group" if len(out.split()) > len(procs) else "child-outside")
""")


def test_the_kernel_enforces_the_quota_written(hierarchy, server_python, server_ids):
    """A busy process in a 0.05-CPU group is throttled, however loaded the machine is."""
    group = hierarchy.create(cgroups.group_name("test", "throttle"), Limits(cpu=0.05))
    try:
        r = run_in_group(group, BUSY.replace("range(2)", "range(1)"), server_python, server_ids)
        assert r.returncode == 0, r.stderr
        stat = dict(
            line.split() for line in (group.dirs["cpu"] / "cpu.stat").read_text().splitlines()
        )
        assert int(stat["nr_throttled"]) > 0
    finally:
        assert group.remove()


V2 = "30 25 0:26 / {point} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1 = (
    "31 25 0:27 / {point}/memory rw - cgroup cgroup rw,memory\n"
    "32 25 0:28 / {point}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
)


def test_cgroup_v2_where_present(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "mountinfo").write_text(V2.format(point=tmp_path))
    (tmp_path / "self").write_text("0::/\n")
    h = cgroups.detect(str(tmp_path / "mountinfo"), str(tmp_path / "self"))
    assert h is not None and h.version == 2 and h.missing == []
    assert (tmp_path / "fermi_jupyter" / "cgroup.subtree_control").read_text() in (
        "+cpu +memory",
        "+memory +cpu",
    )
    g = h.create("alice-x", Limits(cpu=1.5, memory=512 * 2**20))
    folder = tmp_path / "fermi_jupyter" / "alice-x"
    assert (folder / "memory.max").read_text() == str(512 * 2**20)
    assert (folder / "cpu.max").read_text() == "150000 100000"
    assert (folder / "memory.oom.group").read_text() == "0"
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert g.oom_kills() == 1 and g.oom_file() == folder / "memory.events"


def test_cgroup_v1_otherwise(tmp_path):
    for sub in ("memory", "cpu,cpuacct"):
        (tmp_path / sub / "hub").mkdir(parents=True)
    (tmp_path / "mountinfo").write_text(V1.format(point=tmp_path))
    (tmp_path / "self").write_text("5:memory:/hub\n3:cpu,cpuacct:/hub\n")
    h = cgroups.detect(str(tmp_path / "mountinfo"), str(tmp_path / "self"))
    assert h is not None and h.version == 1
    assert h.dirs["memory"] == tmp_path / "memory" / "hub" / "fermi_jupyter"  # below the hub's
    assert h.dirs["cpu"] == tmp_path / "cpu,cpuacct" / "hub" / "fermi_jupyter"
    g = h.create("bob-y", Limits(cpu=2, memory=2**30))
    assert (g.dirs["cpu"] / "cpu.cfs_quota_us").read_text() == "200000"
    assert (g.dirs["memory"] / "memory.limit_in_bytes").read_text() == str(2**30)


def test_nothing_writable_and_the_form_says_so(tmp_path):
    (tmp_path / "mountinfo").write_text("22 1 0:20 / /proc rw - proc proc rw\n")
    (tmp_path / "self").write_text("0::/\n")
    assert cgroups.detect(str(tmp_path / "mountinfo"), str(tmp_path / "self")) is None
    shipped = Path(__file__).resolve().parents[2] / "kubespawner_profiles"
    from fermi_jupyter.spawner.profiles import load_profiles

    profiles = local_profiles(load_profiles(shipped), gpus=0)
    html = render_profiles(profiles, None, hierarchy=None)
    assert "CPU and memory limits of these profiles are not enforced" in html


def test_gpu_profiles_are_shown_disabled_without_gpus():
    from fermi_jupyter.spawner.profiles import load_profiles

    shipped = Path(__file__).resolve().parents[2] / "kubespawner_profiles"
    profiles = {p.slug: p for p in local_profiles(load_profiles(shipped), gpus=0)}
    assert profiles["pytorch-a100"].disabled == "needs 1 GPU; this machine has none"
    assert profiles["cpu-small"].disabled is None
    assert profiles["cpu-small"].limits == Limits(cpu=2.0, memory=8 * 10**9)
    html = render_profiles(list(profiles.values()), "pytorch-a100", hierarchy=None)
    assert 'value="pytorch-a100" disabled' in html  # cannot be picked
    assert 'value="cpu-small" checked' in html  # the default instead of a disabled one
    with_gpus = {p.slug: p for p in local_profiles(load_profiles(shipped), gpus=2)}
    assert with_gpus["pytorch-a100"].disabled is None
    assert "has 2" in with_gpus["vision-4gpu"].disabled


def test_group_names_are_safe():
    name = cgroups.group_name("Ålice/../x", "gpu server")
    assert "/" not in name and ".." not in name and name.startswith("lice-x-gpu-server-")
    assert sys.getsizeof(name) < 200


async def test_a_server_stopped_for_memory_is_said_on_the_next_form(tmp_path):
    from fermi_jupyter.spawner.local import LocalFermiSpawner

    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    (tmp_path / "mountinfo").write_text(V2.format(point=tmp_path))
    (tmp_path / "self").write_text("0::/\n")
    h = cgroups.detect(str(tmp_path / "mountinfo"), str(tmp_path / "self"))
    group = h.create("carol-x", Limits(memory=2**28))
    (group.dirs["memory"] / "memory.events").write_text("oom 1\noom_kill 1\n")
    spawner = LocalFermiSpawner(hub_registry_url="http://127.0.0.1:9/api/v1")
    spawner._fermi_group = group
    spawner._note_oom()

    class User:
        name = "carol"

        def new_api_token(self, **kwargs):
            return "x"

    spawner.user = User()
    first = await spawner.storage_form()
    assert "Your last server ran out of memory" in first
    assert "ran out of memory" not in await spawner.storage_form()  # said once
