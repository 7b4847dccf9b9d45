"""Walking a tree once, in tree order, relative to directory descriptors.

The walk reads names only (``getdents``: the kind of each entry comes from ``d_type``, no
``stat`` per file) and yields each regular file as (folder, name); whoever reads the file
opens it relative to the folder's descriptor, without following symlinks, and checks what it
opened. Folders are opened with :func:`open_subdir` — never through a symlink, never across a
mount point — so nothing outside the tree is listed or read, whatever is swapped in while the
walk runs.

Tree order = each folder's names sorted, sub-folders expanded in place = the order of
``tuple(path.split("/"))``, the order of manifests.

Folders are reference-counted: the walk holds its folder while listing it, and every batch
of files handed to a worker holds the folders it names until its result is back, so a
folder's descriptors live exactly as long as someone may still use them.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import hooks
from .creds import Switch
from .fsafe import Refused, open_subdir
from .progress import Tracker

_WARNINGS_CAP = 100
FILE, DIR, LINK, OTHER = 0, 1, 2, 3


@dataclass
class Skipped:
    """What a walk passed over: symlinks, sockets, fifos, devices, mount points, entries that
    changed while being read (counted, the first hundred named)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, rel: str, what: str) -> None:
        self.count += 1
        if len(self.examples) < _WARNINGS_CAP:
            self.examples.append(f"skipped {what}: {rel}")

    def extend(self, warnings: list[str], count: int) -> None:
        self.count += count
        room = _WARNINGS_CAP - len(self.examples)
        if room > 0:
            self.examples.extend(warnings[:room])

    def warnings(self) -> list[str]:
        extra = self.count - len(self.examples)
        return self.examples + ([f"… and {extra} more skipped"] if extra > 0 else [])


class Folder:
    """One open folder of the walk (and, for snapshots and restores, its copy)."""

    __slots__ = ("dst", "fd", "id", "refs", "rel")

    def __init__(self, id: int, rel: str, fd: int):
        self.id = id
        self.rel = rel
        self.fd = fd
        self.dst = -1
        self.refs = 1


def _kind(entry: os.DirEntry[str]) -> int:
    if entry.is_file(follow_symlinks=False):
        return FILE
    if entry.is_dir(follow_symlinks=False):
        return DIR
    if entry.is_symlink():
        return LINK
    return OTHER


def _other_kind(fd: int, name: str) -> str:
    try:
        mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
    except OSError:
        return "entry that vanished during the walk"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "special file"


class Walk:
    """``runs()`` yields every regular file, in tree order, as (folder, names).

    ``on_folder(folder, parent)`` runs when a folder is entered (the root has parent None):
    snapshots make the folder's copy there. ``on_release(folder)`` runs when the last user of
    a folder lets go of it, before its descriptors are closed (snapshots seal the copy).
    """

    def __init__(
        self,
        root_fd: int,
        *,
        switch: Switch,
        tracker: Tracker | None = None,
        skipped: Skipped | None = None,
        on_folder: Callable[[Folder, Folder | None], None] | None = None,
        on_release: Callable[[Folder], None] | None = None,
    ):
        self.root_fd = root_fd
        self.dev = os.fstat(root_fd).st_dev
        self.switch = switch
        self.tracker = tracker
        self.skipped = skipped if skipped is not None else Skipped()
        self.on_folder = on_folder
        self.on_release = on_release
        self.files_seen = 0
        self.folders = 0
        self._next_id = 0
        self._open: dict[int, Folder] = {}

    # -- folder lifetimes -----------------------------------------------------------------
    def _new(self, rel: str, fd: int) -> Folder:
        self._next_id += 1
        f = Folder(self._next_id, rel, fd)
        self._open[f.id] = f
        self.folders += 1
        return f

    def hold(self, folder: Folder) -> None:
        folder.refs += 1

    def release(self, folder: Folder) -> None:
        folder.refs -= 1
        if folder.refs > 0:
            return
        self._open.pop(folder.id, None)
        try:
            if self.on_release is not None:
                self.on_release(folder)
        finally:
            if folder.dst >= 0:
                os.close(folder.dst)
            if folder.fd != self.root_fd:
                os.close(folder.fd)

    def close(self) -> None:
        """Close every folder still open (after a failure); the root is the caller's."""
        for folder in list(self._open.values()):
            if folder.dst >= 0:
                os.close(folder.dst)
                folder.dst = -1
            if folder.fd != self.root_fd:
                os.close(folder.fd)
        self._open.clear()

    # -- the walk ---------------------------------------------------------------------------
    def _list(self, folder: Folder) -> list[tuple[str, int]]:
        tracker = self.tracker
        entries: list[tuple[str, int]] = []
        try:
            with self.switch.as_reader(), os.scandir(folder.fd) as it:
                for e in it:
                    entries.append((e.name, _kind(e)))
                    if tracker is not None and not len(entries) & 4095:
                        tracker.tick()  # a folder of a million names takes a while
        except OSError as e:
            raise OSError(
                e.errno, f"cannot read folder {folder.rel or '.'}: {e.strerror}"
            ) from None
        entries.sort()
        if hooks.DIR is not None:
            hooks.pause("walk-listed", rel=folder.rel, names=[n for n, _ in entries[:50]])
        return entries

    def runs(self) -> Iterator[tuple[Folder, list[str]]]:
        """(folder, names): the regular files in tree order, as runs of names that follow
        each other in one folder (a folder's files between two of its sub-folders)."""
        root = self._new("", self.root_fd)
        if self.on_folder is not None:
            self.on_folder(root, None)
        stack: list[tuple[Folder, Iterator[tuple[str, int]]]] = [(root, iter(self._list(root)))]
        tracker = self.tracker
        while stack:
            folder, entries = stack[-1]
            if tracker is not None:
                tracker.tick()
            run: list[str] = []
            for name, kind in entries:
                if kind == FILE:
                    run.append(name)
                    continue
                if run:
                    self.files_seen += len(run)
                    yield folder, run
                    run = []
                rel = f"{folder.rel}/{name}" if folder.rel else name
                if kind == DIR:
                    sub = self._enter(folder, name, rel)
                    if sub is None:
                        continue
                    stack.append((sub, iter(self._list(sub))))
                    break  # depth first: descend now, come back to ``entries`` later
                if kind == LINK:
                    self.skipped.add(rel, "symlink")
                else:
                    self.skipped.add(rel, _other_kind(folder.fd, name))
            else:
                if run:
                    self.files_seen += len(run)
                    yield folder, run
                stack.pop()
                self.release(folder)

    def _enter(self, parent: Folder, name: str, rel: str) -> Folder | None:
        try:
            with self.switch.as_reader():
                fd = open_subdir(parent.fd, name, self.dev)
        except Refused as e:
            self.skipped.add(rel, f"folder that is {e.strerror}")
            return None
        except OSError as e:
            if e.errno == errno.ENOENT:
                self.skipped.add(rel, "folder that vanished during the walk")
                return None
            raise OSError(e.errno, f"cannot open folder {rel}: {e.strerror}") from None
        sub = self._new(rel, fd)
        if self.on_folder is not None:
            self.on_folder(sub, parent)
        return sub
