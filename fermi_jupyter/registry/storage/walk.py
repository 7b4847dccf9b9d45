"""Walking a source tree in tree order (depth-first, names sorted), regular files only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Skipped:
    """What a walk passed over: symlinks, sockets, fifos, devices (counted, a few named)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, rel: str, what: str) -> None:
        self.count += 1
        if len(self.examples) < 100:
            self.examples.append(f"skipped {what}: {rel}")

    def warnings(self) -> list[str]:
        extra = self.count - len(self.examples)
        return self.examples + ([f"… and {extra} more skipped"] if extra > 0 else [])


@dataclass(frozen=True)
class FileInfo:
    rel: str
    size: int
    mode: int
    mtime_ns: int


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "special file"


def _sorted_entries(path: str, rel: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise OSError(f"cannot read folder {rel or '.'}: {e.strerror}") from None


def walk(
    root: str, skipped: Skipped | None = None, dirs: list[str] | None = None
) -> Iterator[FileInfo]:
    """Yield regular files under ``root`` in tree order; symlinks are never followed.

    Tree order: each directory's names sorted, sub-directories expanded in place — the order
    of ``tuple(path.split("/"))``. ``dirs``, when given, receives every directory's relative
    path (so empty ones can be recreated).
    """
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = [(iter(_sorted_entries(root, "")), "")]
    while stack:
        entries, rel = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        child = f"{rel}/{entry.name}" if rel else entry.name
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            if dirs is not None:
                dirs.append(child)
            stack.append((iter(_sorted_entries(entry.path, child)), child))
        elif stat.S_ISREG(st.st_mode):
            yield FileInfo(child, st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns)
        elif skipped is not None:
            skipped.add(child, _kind(st.st_mode))


def count(root: str) -> tuple[int, int]:
    """(files, bytes) of regular files under ``root``: the totals for progress bars."""
    files = nbytes = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    files += 1
                    nbytes += entry.stat(follow_symlinks=False).st_size
    return files, nbytes
