"""CPU and memory limits for local servers, with cgroups: v2 where the host has it, v1
otherwise (both occur on real hosts).

Each server gets its own group below the hub's own one (v1) or below ``fermi_jupyter`` at the
v2 root, so a busy or leaking server cannot take the machine. The server's process joins its
group before it starts bubblewrap (``Group.join`` runs in the child, as root, before dropping
privileges). When no hierarchy can be written, ``detect`` says why and nothing is enforced —
the spawn form and the hub log say so.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PERIOD_US = 100_000
PARENT = "fermi_jupyter"


@dataclass(frozen=True)
class Limits:
    cpu: float | None = None  # cores
    memory: int | None = None  # bytes

    def __bool__(self) -> bool:
        return self.cpu is not None or self.memory is not None


def _mounts(mountinfo: str = "/proc/self/mountinfo") -> Iterator[tuple[str, str, set[str]]]:
    """(mount point, fstype, super options) of every cgroup mount."""
    for line in Path(mountinfo).read_text().splitlines():
        left, _, right = line.partition(" - ")
        parts, rparts = left.split(), right.split()
        if len(rparts) >= 3 and rparts[0] in ("cgroup", "cgroup2"):
            yield parts[4], rparts[0], set(rparts[2].split(","))


def _own_paths(proc: str = "/proc/self/cgroup") -> dict[str, str]:
    """controller → this process's group path (v1); ``""`` → its v2 path."""
    out = {}
    for line in Path(proc).read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


@dataclass
class Hierarchy:
    """Where groups are made: ``dirs`` maps a resource (cpu, memory) to its parent folder."""

    version: int
    dirs: dict[str, Path]
    missing: list[str] = field(default_factory=list)  # resources nothing can limit

    def create(self, name: str, limits: Limits) -> Group:
        group = Group(self.version, {k: d / name for k, d in self.dirs.items()})
        for path in set(group.dirs.values()):
            path.mkdir(exist_ok=True)
        try:
            group.apply(limits)
        except OSError:
            group.remove()
            raise
        return group

    def group(self, name: str) -> Group:
        return Group(self.version, {k: d / name for k, d in self.dirs.items()})


@dataclass
class Group:
    version: int
    dirs: dict[str, Path]  # resource → this group's folder

    def _write(self, resource: str, name: str, value: str) -> None:
        (self.dirs[resource] / name).write_text(value)

    def apply(self, limits: Limits) -> None:
        if limits.memory is not None and "memory" in self.dirs:
            if self.version == 2:
                self._write("memory", "memory.max", str(limits.memory))
                if (self.dirs["memory"] / "memory.swap.max").exists():
                    self._write("memory", "memory.swap.max", "0")
                self._write("memory", "memory.oom.group", "0")  # kill the biggest, not all
            else:
                self._write("memory", "memory.limit_in_bytes", str(limits.memory))
                if (self.dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
                    self._write("memory", "memory.memsw.limit_in_bytes", str(limits.memory))
                self._write("memory", "memory.swappiness", "0")
        if limits.cpu is not None and "cpu" in self.dirs:
            quota = max(1000, int(limits.cpu * PERIOD_US))
            if self.version == 2:
                self._write("cpu", "cpu.max", f"{quota} {PERIOD_US}")
            else:
                self._write("cpu", "cpu.cfs_period_us", str(PERIOD_US))
                self._write("cpu", "cpu.cfs_quota_us", str(quota))

    def join(self) -> None:
        """Move the calling process into this group (used in the child before exec)."""
        pid = str(os.getpid())
        for path in set(self.dirs.values()):
            (path / "cgroup.procs").write_text(pid)

    def oom_file(self) -> Path | None:
        """The file whose ``oom_kill N`` line counts this group's out-of-memory kills."""
        folder = self.dirs.get("memory")
        if folder is None:
            return None
        return folder / ("memory.events" if self.version == 2 else "memory.oom_control")

    def oom_kills(self) -> int:
        path = self.oom_file()
        if path is None:
            return 0
        try:
            found = re.search(r"^oom_kill (\d+)$", path.read_text(), re.M)
        except OSError:
            return 0
        return int(found.group(1)) if found else 0

    def pids(self) -> list[int]:
        out: set[int] = set()
        for path in set(self.dirs.values()):
            with contextlib.suppress(OSError):
                out |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
        return sorted(out)

    def remove(self, tries: int = 20) -> bool:
        """Remove the group once its processes are gone; False if some remained."""
        left = set(self.dirs.values())
        for _ in range(tries):
            for path in list(left):
                try:
                    path.rmdir()
                    left.discard(path)
                except FileNotFoundError:
                    left.discard(path)
                except OSError:
                    pass
            if not left:
                return True
            time.sleep(0.05)
        return False


def _writable_child(parent: Path) -> bool:
    probe = parent / f"probe-{secrets.token_hex(3)}"
    try:
        parent.mkdir(exist_ok=True)
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


def detect(
    mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc/self/cgroup"
) -> Hierarchy | None:
    """The hierarchy to use, or None when neither v2 nor v1 can be written here."""
    try:
        mounts = list(_mounts(mountinfo))
        own = _own_paths(proc)
    except OSError:
        return None
    for point, fstype, _ in mounts:  # v2 first: what current hosts run
        if fstype != "cgroup2":
            continue
        controllers = Path(point, "cgroup.controllers")
        try:
            available = set(controllers.read_text().split())
        except OSError:
            continue
        wanted = {"cpu", "memory"} & available
        if not wanted:
            continue  # a hybrid host: the controllers are bound to v1
        parent = Path(point, PARENT)
        if not _writable_child(parent):
            continue
        try:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        except OSError:
            continue
        return Hierarchy(2, {c: parent for c in wanted}, sorted({"cpu", "memory"} - wanted))
    dirs: dict[str, Path] = {}
    for point, fstype, options in mounts:
        if fstype != "cgroup":
            continue
        for resource in ("cpu", "memory"):
            if resource in options and resource not in dirs:
                base = Path(point) / own.get(resource, "/").lstrip("/") / PARENT
                if _writable_child(base):
                    dirs[resource] = base
    if not dirs:
        return None
    return Hierarchy(1, dirs, sorted({"cpu", "memory"} - set(dirs)))


def group_name(user: str, server: str) -> str:
    """A folder name for one server's group: readable, unique, safe."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"{user}-{server}".lower()).strip("-")[:40] or "server"
    return f"{slug}-{secrets.token_hex(4)}"
