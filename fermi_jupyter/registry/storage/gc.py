"""Giving space back: failed and cancelled snapshots, deleted versions, and leftovers.

An object (or replica) is in use while a version tree links it: its link count is then at
least 2 (the store's own name plus one per use). Freeing one that is not in use must not race
with a snapshot that links it at that moment, so :func:`drop_if_unused` first *renames* the
object out of the store — from then on nobody can link it by name (a snapshot that wanted it
finds it missing and stores the content again) — then reads the link count of what it holds:
1 means nobody uses it and it is deleted; more means a version linked it just before the
rename, and the name is put back.

A snapshot that fails, is cancelled, or whose registry died is moved to ``tmp/trash/`` at
once (a rename: instant, whatever its size) with its journal of added objects; deleting the
tree and then freeing those objects happens right away for small trees and in the background
for big ones, so a cancel is answered within a second.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .layout import StorageLayout
from .manifest import iter_manifest, tmp_path_of
from .objects import EMPTY_DIGEST, object_name

_JOURNAL_LINE = re.compile(r"^[0-9a-f]{64}(\.d/[0-9]+)?$")
REAP_NOW = 0.1  # seconds a failing snapshot spends deleting its tree before going on
_counter = itertools.count()
_reaping = threading.Lock()


def _make_writable(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | stat.S_IRWXU, follow_symlinks=False)


def rmtree_force(path: Path | str, deadline: float | None = None) -> bool:
    """Remove a tree of the store even where it was sealed read-only (0555 folders);
    idempotent. Stops early (returning False) once ``deadline`` (monotonic) passes."""
    path = str(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return True
    for _dirpath, dirnames, filenames, dirfd in os.fwalk(path, topdown=False):
        if deadline is not None and time.monotonic() > deadline:
            return False
        os.chmod(dirfd, 0o700)  # sealed folders refuse unlinking to a non-root registry
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dirfd)
        for name in dirnames:
            with contextlib.suppress(FileNotFoundError):
                try:
                    os.rmdir(name, dir_fd=dirfd)
                except NotADirectoryError:  # a symlink to a folder: never followed
                    os.unlink(name, dir_fd=dirfd)
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(path)
    return True


def drop_if_unused(objects: Path | str, name: str) -> int:
    """Delete ``objects/<name>`` if no version links it; bytes freed (0 if kept or gone)."""
    obj = os.path.join(objects, name)
    held = os.path.join(os.path.dirname(obj), f".drop-{os.getpid()}-{next(_counter)}")
    try:
        os.rename(obj, held)
    except FileNotFoundError:
        return 0
    st = os.lstat(held)
    if st.st_nlink <= 1:
        os.unlink(held)
        return st.st_size
    with contextlib.suppress(FileExistsError):  # in use: back under its name
        os.link(held, obj)
    os.unlink(held)
    return 0


def drop_digest(layout: StorageLayout, digest: str) -> int:
    """:func:`drop_if_unused` for an object and its replicas (``<digest>.d/<k>``)."""
    if digest == EMPTY_DIGEST or len(digest) < 3:
        return 0
    name = object_name(digest)
    freed = drop_if_unused(layout.objects_dir, name)
    replicas = layout.objects_dir / f"{name}.d"
    for k in _listdir(replicas):
        if k.isdigit():
            freed += drop_if_unused(replicas, k)
    if freed:
        with contextlib.suppress(OSError):  # not empty: replicas still in use
            os.rmdir(replicas)
    return freed


def free_unused(layout: StorageLayout, manifest: Path, *, partial_ok: bool = False) -> int:
    """Free the objects ``manifest`` names that no version links any more; bytes freed."""
    return sum(
        drop_digest(layout, e.digest) for e in iter_manifest(manifest, partial_ok=partial_ok)
    )


def free_journal(layout: StorageLayout, journal: Path) -> int:
    """Free the objects a snapshot's journal lists, where nothing links them; bytes freed."""
    freed = 0
    try:
        f = open(journal, encoding="ascii", errors="replace")  # noqa: SIM115
    except FileNotFoundError:
        return 0
    with f:
        for line in f:
            name = line.strip()
            if not _JOURNAL_LINE.match(name):
                continue
            freed += drop_if_unused(layout.objects_dir, f"{name[:2]}/{name}")
            if ".d/" in name:
                with contextlib.suppress(OSError):
                    os.rmdir(layout.objects_dir / name[:2] / name.split("/", 1)[0])
    return freed


# -- failed snapshots ----------------------------------------------------------------------------
def cleanup_partial(
    layout: StorageLayout, ds_id: str, n: int, *, keep_objects: bool = False
) -> None:
    """Idempotent: give back what an unfinished snapshot of ``ds_id`` version ``n`` took (its
    half-built tree, temp manifest and the objects it added that nothing else links). Instant
    for the caller: the tree moves to the trash, which is emptied now for a fraction of a second and
    in the background after that. With ``keep_objects`` (a job resuming) the journal stays, so
    the objects stay stored for the next attempt and are freed if the job ends without a version."""
    moved = False
    paths = [layout.partial_dir(ds_id, n), tmp_path_of(layout.manifest_path(ds_id, n))]
    if not keep_objects:
        paths.append(layout.journal_path(ds_id, n))
    for path in paths:
        if os.path.lexists(path):
            moved |= _to_trash(layout, path, f"{ds_id}-{n}")
    if moved:
        reap(layout, budget=REAP_NOW)


def _to_trash(layout: StorageLayout, path: Path, tag: str) -> bool:
    layout.trash_dir.mkdir(parents=True, exist_ok=True)
    suffix = "journal" if path.name.endswith(".objects") else "tree"
    if path.name.endswith(".tmp"):
        suffix = "manifest"
    target = layout.trash_dir / f"{tag}.{os.getpid()}-{next(_counter)}.{suffix}"
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return False
    return True


def reap(layout: StorageLayout, budget: float | None = None) -> tuple[int, int]:
    """Empty the trash: trees first, then the journals' objects (once the trees that linked
    them are gone). Returns (entries removed, bytes of objects freed). With a ``budget`` in
    seconds, what is left after it goes on in a background thread."""
    deadline = None if budget is None else time.monotonic() + budget
    if not _reaping.acquire(blocking=deadline is None):
        return 0, 0  # another thread of this process is at it
    try:
        done, freed = _reap(layout, deadline)
    finally:
        _reaping.release()
    if done < 0:
        threading.Thread(target=reap, args=(layout,), daemon=True, name="fermi-reap").start()
        return 0, freed
    return done, freed


def _reap(layout: StorageLayout, deadline: float | None) -> tuple[int, int]:
    try:
        entries = sorted(os.listdir(layout.trash_dir))
    except FileNotFoundError:
        return 0, 0
    done = freed = 0
    for name in [e for e in entries if not e.endswith(".journal")]:
        if not rmtree_force(layout.trash_dir / name, deadline):
            return -1, freed
        done += 1
    trees_left = {e.split(".", 1)[0] for e in os.listdir(layout.trash_dir) if e.endswith(".tree")}
    for name in [e for e in entries if e.endswith(".journal")]:
        if name.split(".", 1)[0] in trees_left:
            continue  # another process is still deleting the tree that links these
        path = layout.trash_dir / name
        freed += free_journal(layout, path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        done += 1
    return done, freed


# -- deleting versions ---------------------------------------------------------------------------
def remove_version(layout: StorageLayout, ds_id: str, n: int) -> int:
    """Delete a snapshot version and its manifest, and free the objects only it used.
    Returns the bytes of objects freed (a small file is no object: it goes with the folder,
    uncounted). Safe to repeat after a crash half-way (the manifest goes last)."""
    manifest = layout.manifest_path(ds_id, n)
    rmtree_force(layout.version_dir(ds_id, n))
    freed = free_unused(layout, manifest) if manifest.exists() else 0
    manifest.unlink(missing_ok=True)
    tmp_path_of(manifest).unlink(missing_ok=True)
    return freed


def seal(fd: int) -> None:
    """A finished snapshot folder becomes read-only (its files already are)."""
    os.chmod(fd, 0o555)


# -- the sweep -------------------------------------------------------------------------------------
@dataclass
class SweepReport:
    objects: int = 0  # objects and replicas nothing linked
    object_bytes: int = 0
    leftovers: int = 0  # unfinished snapshots, temp manifests, journals, stray temp files
    leftover_bytes: int = 0

    @property
    def bytes(self) -> int:
        return self.object_bytes + self.leftover_bytes


def sweep(
    layout: StorageLayout, *, active: set[tuple[str, int]] = frozenset(), min_age: float = 3600.0
) -> SweepReport:
    """Give back everything nothing uses: unfinished snapshots of versions that are not
    being processed (``active``: (dataset id, number) of those that are), temp files, and
    every object or replica no version links. Only what is older than ``min_age`` seconds
    is touched, so work that started a moment ago keeps what it just made."""
    report = SweepReport()
    cutoff = time.time() - min_age
    layout.ensure()
    # unfinished snapshots and their temp manifests and journals
    for ds_dir in _listdir(layout.root / "datasets"):
        for entry in _listdir(layout.root / "datasets" / ds_dir):
            if entry.startswith(".") and entry.endswith(".partial"):
                n = entry[1 : -len(".partial")]
                if n.isdigit() and (ds_dir, int(n)) not in active:
                    p = layout.root / "datasets" / ds_dir / entry
                    if _older(p, cutoff):
                        report.leftovers += 1
                        cleanup_partial(layout, ds_dir, int(n))
    for ds_dir in _listdir(layout.root / "manifests"):
        for entry in _listdir(layout.root / "manifests" / ds_dir):
            n = entry.split(".", 1)[0]
            if entry.endswith(".tsv.tmp") and n.isdigit() and (ds_dir, int(n)) not in active:
                p = layout.root / "manifests" / ds_dir / entry
                if _older(p, cutoff):
                    report.leftovers += 1
                    report.leftover_bytes += _size(p)
                    cleanup_partial(layout, ds_dir, int(n))
    for entry in _listdir(layout.tmp_dir):
        p = layout.tmp_dir / entry
        if entry.endswith(".objects"):
            ds, _, n = entry[: -len(".objects")].rpartition("-")
            if n.isdigit() and (ds, int(n)) not in active and _older(p, cutoff):
                report.leftovers += 1
                cleanup_partial(layout, ds, int(n))
        elif entry != "trash" and _older(p, cutoff):
            report.leftovers += 1
            report.leftover_bytes += _size(p)
            rmtree_force(p)
    _, freed = reap(layout)
    report.object_bytes += freed
    # objects and replicas nothing links (and stray temporary names in the fan-out folders)
    folders = [layout.objects_dir / sub for sub in _listdir(layout.objects_dir)]
    while folders:
        folder = folders.pop()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    folders.append(Path(e.path))  # a <digest>.d folder of replicas
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if st.st_nlink > 1 or st.st_ctime >= cutoff:
                    continue
                if e.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(e.path)
                    report.leftovers += 1
                    report.leftover_bytes += st.st_size
                    continue
                size = drop_if_unused(folder, e.name)
                if size or st.st_size == 0:
                    report.objects += 1
                    report.object_bytes += size
            if folder.name.endswith(".d"):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # no replicas left
    return report


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _older(path: Path, cutoff: float) -> bool:
    try:
        return os.lstat(path).st_mtime < cutoff
    except FileNotFoundError:
        return False


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except FileNotFoundError:
        return 0
