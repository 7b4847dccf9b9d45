"""Browsing a volume: one page of a directory, or a bounded name search below it."""

from __future__ import annotations

import heapq
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .paths import confine

MAX_SCANNED = 200_000  # entries one search request may look at


@dataclass(frozen=True)
class DirEntry:
    name: str
    path: str
    type: str  # dir | file | symlink | other
    size: int | None
    mtime: float | None


def _describe(entry: os.DirEntry[str], rel: str) -> DirEntry:
    try:
        st = entry.stat(follow_symlinks=False)
    except FileNotFoundError:  # removed between listing and stat
        return DirEntry(entry.name, rel, "other", None, None)
    if stat.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    elif stat.S_ISLNK(st.st_mode):
        kind = "symlink"
    else:
        kind = "other"
    size = st.st_size if kind == "file" else None
    return DirEntry(entry.name, rel, kind, size, st.st_mtime)


def list_dir(
    base: Path, rel: str, *, q: str | None = None, limit: int = 100, cursor: str | None = None
) -> tuple[list[DirEntry], str | None, bool]:
    """(entries, next cursor, truncated). Children sorted by name; with ``q`` a search."""
    root = str(confine(base, rel, kind="dir"))
    base_real = os.path.realpath(base)
    prefix = os.path.relpath(root, base_real)
    prefix = "" if prefix == "." else prefix + "/"
    if q:
        return _search(root, prefix, q.lower(), limit, cursor)
    with os.scandir(root) as it:
        entries = {e.name: e for e in it if cursor is None or e.name > cursor}
    # only the page is sorted and stat'ed: a 100k-entry folder costs one readdir
    names = heapq.nsmallest(limit + 1, entries)
    page = [_describe(entries[n], prefix + n) for n in names[:limit]]
    nxt = names[limit - 1] if len(names) > limit else None
    return page, nxt, False


def _search(
    root: str, prefix: str, needle: str, limit: int, cursor: str | None
) -> tuple[list[DirEntry], str | None, bool]:
    """Depth-first in tree order, so a cursor (the last path returned) resumes exactly."""
    after = tuple(cursor.split("/")) if cursor else None
    found: list[DirEntry] = []
    scanned = 0
    stack: list[tuple[list[os.DirEntry[str]], int, str]] = []

    def push(path: str, rel: str) -> None:
        try:
            with os.scandir(path) as it:
                stack.append((sorted(it, key=lambda e: e.name), 0, rel))
        except OSError:
            pass  # unreadable folders are passed over, not fatal

    push(root, prefix.rstrip("/"))
    while stack:
        entries, i, rel = stack[-1]
        if i >= len(entries):
            stack.pop()
            continue
        stack[-1] = (entries, i + 1, rel)
        entry = entries[i]
        child = f"{rel}/{entry.name}" if rel else entry.name
        scanned += 1
        if scanned > MAX_SCANNED:
            return found, (found[-1].path if found else cursor), True
        key = tuple(child.split("/"))
        is_dir = entry.is_dir(follow_symlinks=False)
        if after is not None and key <= after and not (is_dir and after[: len(key)] == key):
            continue
        if (after is None or key > after) and needle in entry.name.lower():
            found.append(_describe(entry, child))
            if len(found) == limit:
                return found, child, False
        if is_dir:
            push(entry.path, child)
    return found, None, False


def disk_usage(path: Path) -> tuple[int, int]:
    """(bytes, files) of regular files under ``path``."""
    total = files = 0
    stack = [str(path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.is_file(follow_symlinks=False):
                        files += 1
                        total += e.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total, files
