"""A new filesystem for each tree's figures, so that every run starts from the same state.

Measured here: the same registration of 1M files took 30 s, 45 s or 51 s depending on what the
runs before it had left on the work folder's filesystem (a mass deletion just before — the
work disk is mounted with ``discard`` — or 3 GB of kept copies filling the page cache), and
some verdicts flipped with it. So ``python -m bench --fs fresh`` (the default when it can)
makes a new ext4 filesystem in a file for each tree shape, copies the tree into it, measures
ours and the reference there, and throws it away: every figure starts from an empty, newly
made filesystem, whatever ran before.

The file is attached with ``losetup --direct-io=on`` (no second copy of every page in the
cache) and allocated up front with ``fallocate`` (the host's filesystem does no allocation
while we measure). The filesystem is made without ``discard`` and with its inode tables
written at once (no lazy initialisation in the background). Needs root, ``mkfs.ext4`` and
``losetup``; without them (``--fs work``) the figures come from the work folder as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

MODE = "work"  # "fresh" or "work", set by ``python -m bench --fs``
TOOLS = ("mkfs.ext4", "losetup", "mount", "umount", "fallocate")


def unavailable() -> str | None:
    """Why a fresh filesystem cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root (mount)"
    missing = [t for t in TOOLS if not shutil.which(t)]
    return f"missing {', '.join(missing)}" if missing else None


def choose(asked: str, where: Path) -> str:
    """Set and describe where figures are measured: ``asked`` is fresh, work or auto (fresh
    for the full sizes when a small filesystem can be made here, else the work folder)."""
    global MODE
    why = None if asked == "work" else unavailable()
    if why is None and asked != "work":
        try:
            with filesystem(where, "probe", 64 << 20, 1024):
                pass
        except OSError as e:
            why = str(e)
    if asked == "fresh" and why:
        raise SystemExit(f"bench: --fs fresh: cannot make a filesystem here: {why}")
    MODE = "fresh" if asked != "work" and why is None else "work"
    if MODE == "fresh":
        return "each tree on a new ext4 filesystem (loop device, direct I/O)"
    return "on the work folder's filesystem" + (f" (no new filesystem: {why})" if why else "")


def footprint(root: Path) -> tuple[int, int]:
    """(bytes on disk, entries) of a tree: the room a copy of it takes."""
    used, entries = 0, 1
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            used += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
        entries += len(dirnames) + len(filenames)
    return used, entries


def _run(*cmd: str) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise OSError(f"{' '.join(cmd)}: {(r.stderr or r.stdout).strip()}")
    return r.stdout.strip()


@contextlib.contextmanager
def filesystem(where: Path, name: str, size: int, inodes: int) -> Iterator[Path]:
    """A new ext4 filesystem of ``size`` bytes and ``inodes`` inodes, mounted at
    ``where/name.fs``; unmounted and deleted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    image, mount = where / f"{name}.img", where / f"{name}.fs"
    _release(image, mount)  # a run that was killed left them
    mount.mkdir()
    try:
        _run("fallocate", "-l", str(size), str(image))
        _run(
            "mkfs.ext4",
            "-q",
            "-F",
            "-m",
            "0",
            "-N",
            str(inodes),
            "-E",
            "lazy_itable_init=0,lazy_journal_init=0,nodiscard",
            str(image),
        )
        device = _run("losetup", "--find", "--show", "--direct-io=on", str(image))
        _run("mount", device, str(mount))
        yield mount
    finally:
        _release(image, mount)  # unmount, detach (found by the image), delete


def _release(image: Path, mount: Path) -> None:
    if mount.is_dir() and os.path.ismount(mount):
        with contextlib.suppress(OSError):
            _run("umount", str(mount))
    if image.exists():
        with contextlib.suppress(OSError):
            for dev in _run("losetup", "-j", str(image)).splitlines():
                _run("losetup", "-d", dev.split(":", 1)[0])
        image.unlink()
    with contextlib.suppress(OSError):
        mount.rmdir()


@contextlib.contextmanager
def place(where: Path, name: str, trees: dict[str, Path], copies: int) -> Iterator[Path]:
    """Where one suite's figures for ``trees`` are measured, with each tree in it under its
    key. ``--fs fresh``: a new filesystem with room for ``copies`` copies of them all, the trees
    copied in with ``cp -a``; ``--fs work``: ``where/name`` on the work folder's filesystem,
    the trees moved in (and moved back after)."""
    if MODE == "fresh":
        used = entries = 0
        for tree in trees.values():
            u, e = footprint(tree)
            used, entries = used + u, entries + e
        inodes = entries * copies + 100_000
        size = int(used * copies * 1.1) + inodes * 256 + (512 << 20)
        with filesystem(where, name, size, inodes) as root:
            for key, tree in trees.items():
                _run("cp", "-a", "--", str(tree), str(root / key))
            _run("sync", "-f", str(root))  # written back now, not while we measure
            yield root
        return
    root = where / name
    root.mkdir(parents=True, exist_ok=True)
    moved = []
    try:
        for key, tree in trees.items():
            tree.rename(root / key)
            moved.append((root / key, tree))
        yield root
    finally:
        for there, back in moved:
            there.rename(back)
