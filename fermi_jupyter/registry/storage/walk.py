"""Walking a tree once, in tree order, without following symlinks, into a compact listing.

The walk is the only pass that looks at the source's metadata: it records every regular
file's size, mode, mtime and inode (one ``stat`` each) and every folder, in tree order, so
the totals for progress bars are known before any file is read and nothing is stat'ed twice.
Listings of big trees go to an anonymous temporary file, so memory stays flat.

Race safety: folders are opened relative to their parent's descriptor with ``O_NOFOLLOW``,
so a folder swapped for a symlink after ``confine`` is never followed out of the volume; the
readers check each opened file's inode against the one recorded here (see hashing.py).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import IO, NamedTuple

from .manifest import escape, unescape
from .progress import Tracker

DIR = -1  # Item.size of a folder
SPILL_AFTER = 50_000  # items kept in memory before the listing moves to a temporary file
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_by_name = attrgetter("name")
_WARNINGS_CAP = 100


class Item(NamedTuple):
    rel: str  # "/"-separated, relative to the walked root
    size: int  # DIR for folders
    mode: int  # S_IMODE
    mtime_ns: int
    ino: int

    @property
    def is_dir(self) -> bool:
        return self.size == DIR


@dataclass
class Skipped:
    """What a walk passed over: symlinks, sockets, fifos, devices (counted, a few named)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, rel: str, what: str) -> None:
        self.count += 1
        if len(self.examples) < _WARNINGS_CAP:
            self.examples.append(f"skipped {what}: {rel}")

    def warnings(self) -> list[str]:
        extra = self.count - len(self.examples)
        return self.examples + ([f"… and {extra} more skipped"] if extra > 0 else [])


class Listing:
    """Items in tree order: in memory up to ``SPILL_AFTER``, then in an unlinked temp file."""

    def __init__(self, spill_dir: str | None = None):
        self._mem: list[Item] = []
        self._spill: IO[str] | None = None
        self._spill_dir = spill_dir
        self.files = 0
        self.bytes = 0
        self.dirs = 0

    def add(self, item: Item) -> None:
        if item.size == DIR:
            self.dirs += 1
        else:
            self.files += 1
            self.bytes += item.size
        self._mem.append(item)
        if len(self._mem) >= SPILL_AFTER:
            self._flush()

    def _flush(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                "w+", encoding="utf-8", errors="surrogateescape", dir=self._spill_dir
            )
        self._spill.write(
            "".join(
                f"{i.size}\t{i.mode}\t{i.mtime_ns}\t{i.ino}\t{escape(i.rel)}\n" for i in self._mem
            )
        )
        self._mem.clear()

    def __iter__(self) -> Iterator[Item]:
        if self._spill is None:
            yield from self._mem
            return
        self._flush()
        self._spill.seek(0)
        for line in self._spill:
            size, mode, mtime, ino, rel = line[:-1].split("\t", 4)
            yield Item(unescape(rel), int(size), int(mode), int(mtime), int(ino))

    def close(self) -> None:
        self._mem.clear()
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "special file"


def _sorted_entries(fd: int, rel: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fd) as it:
            return sorted(it, key=_by_name)
    except OSError as e:
        raise OSError(e.errno, f"cannot read folder {rel or '.'}: {e.strerror}") from None


def walk(
    root: str,
    *,
    tracker: Tracker | None = None,
    skipped: Skipped | None = None,
    spill_dir: str | None = None,
) -> Listing:
    """List ``root``: folders and regular files in tree order, symlinks never followed.

    Tree order = each folder's names sorted, sub-folders expanded in place = the order of
    ``tuple(path.split("/"))``. ``tracker`` gets ticks (progress with unknown totals, cancel
    checks) while the walk runs."""
    skipped = skipped if skipped is not None else Skipped()
    listing = Listing(spill_dir)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        top = _sorted_entries(root_fd, "")
    except BaseException:
        os.close(root_fd)
        raise
    stack: list[tuple[int, Iterator[os.DirEntry[str]], str]] = [(root_fd, iter(top), "")]
    try:
        seen = 0
        while stack:
            fd, entries, rel = stack[-1]
            for entry in entries:
                name = entry.name
                child = f"{rel}/{name}" if rel else name
                seen += 1
                if tracker is not None and not seen & 255:
                    tracker.tick()
                try:
                    if entry.is_dir(follow_symlinks=False):
                        # relative to the parent's fd and no-follow: a folder swapped for a
                        # symlink since it was listed fails here instead of leading elsewhere
                        sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                        try:
                            children = _sorted_entries(sub, child)
                        except BaseException:
                            os.close(sub)
                            raise
                        listing.add(Item(child, DIR, 0, 0, 0))
                        stack.append((sub, iter(children), child))
                        break  # depth-first: descend now, come back to ``entries`` later
                    if entry.is_symlink():
                        skipped.add(child, "symlink")
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError as e:
                    if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                        skipped.add(child, "entry that vanished or changed during the walk")
                        continue
                    raise
                if stat.S_ISREG(st.st_mode):
                    listing.add(
                        Item(child, st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_ino)
                    )
                else:
                    skipped.add(child, _kind(st.st_mode))
            else:
                stack.pop()
                os.close(fd)
    except BaseException:
        for fd, _entries, _rel in stack:
            os.close(fd)
        listing.close()
        raise
    return listing


def list_dirs(root: str) -> Iterator[str]:
    """Every folder under ``root`` (relative, parents first), symlinks not followed; no
    ``stat`` calls (the kind comes from readdir's ``d_type``)."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(f"{root}/{rel}" if rel else root) as it:
                subs = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            continue
        for name in reversed(subs):
            stack.append(f"{rel}/{name}" if rel else name)
        if rel:
            yield rel
