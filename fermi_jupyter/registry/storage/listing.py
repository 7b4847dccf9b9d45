"""Browsing a volume: one page of a directory, or a bounded name search below it.

Like every read of a volume, relative to directory descriptors: the checked folder is opened
once without following symlinks, and nothing below it is reached through a symlink."""

from __future__ import annotations

import heapq
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .fsafe import DIR_FLAGS, open_tree
from .paths import confine

MAX_SCANNED = 200_000  # entries one search request may look at
MAX_LIMIT = 1000


@dataclass(frozen=True)
class DirEntry:
    name: str
    path: str  # relative to the volume root, "/"-separated
    type: str  # dir | file | symlink | other
    size: int | None  # files only
    mtime: float | None


def _describe(dir_fd: int, name: str, rel: str) -> DirEntry:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:  # removed between listing and stat
        return DirEntry(name, rel, "other", None, None)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        kind = "dir"
    elif stat.S_ISREG(mode):
        kind = "file"
    elif stat.S_ISLNK(mode):
        kind = "symlink"
    else:
        kind = "other"
    return DirEntry(name, rel, kind, st.st_size if kind == "file" else None, st.st_mtime)


def list_dir(
    base: Path, rel: str, *, q: str | None = None, limit: int = 100, cursor: str | None = None
) -> tuple[list[DirEntry], str | None, bool]:
    """(entries, next cursor, truncated).

    Without ``q``: the children of ``rel`` sorted by name; ``cursor`` is the last name of the
    previous page. Only names are read for the whole folder (one ``getdents`` pass, no
    ``stat``); the page's entries alone are ``lstat``'ed.

    With ``q``: entries anywhere below ``rel`` whose name contains ``q`` (case-insensitive),
    in tree order; ``cursor`` is a path (the last one examined). At most ``MAX_SCANNED``
    entries are examined per call: ``truncated`` then says the search stopped early, and the
    cursor continues it."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    root = str(confine(base, rel, kind="dir"))
    prefix = os.path.relpath(root, os.path.realpath(base))
    prefix = "" if prefix == "." else prefix + "/"
    fd = open_tree(root)
    try:
        if q:
            return _search(fd, prefix.rstrip("/"), q.casefold(), limit, cursor)
        names = os.listdir(fd)
        if cursor:
            names = [n for n in names if n > cursor]
        page = heapq.nsmallest(limit + 1, names)
        more = len(page) > limit
        page = page[:limit]
        entries = [_describe(fd, name, prefix + name) for name in page]
        return entries, (page[-1] if more else None), False
    finally:
        os.close(fd)


def _search(
    root_fd: int, prefix: str, needle: str, limit: int, cursor: str | None
) -> tuple[list[DirEntry], str | None, bool]:
    """Depth-first in tree order, so a cursor (a path) resumes exactly where a page ended."""
    after = tuple(cursor.split("/")) if cursor else None
    found: list[DirEntry] = []
    scanned = 0
    # (folder descriptor, its path relative to the volume, sorted child names, next index)
    stack: list[tuple[int, str, list[tuple[str, bool]], int]] = []

    def push(parent: int | None, name: str, rel: str) -> None:
        try:
            fd = os.dup(root_fd) if parent is None else os.open(name, DIR_FLAGS, dir_fd=parent)
        except OSError:
            return  # swapped for a symlink, or unreadable: passed over, not fatal
        try:
            with os.scandir(fd) as it:
                kids = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
        except OSError:
            os.close(fd)
            return
        stack.append((fd, rel, kids, 0))

    push(None, "", prefix)
    try:
        while stack:
            fd, rel, kids, i = stack[-1]
            if i >= len(kids):
                stack.pop()
                os.close(fd)
                continue
            stack[-1] = (fd, rel, kids, i + 1)
            name, is_dir = kids[i]
            child = f"{rel}/{name}" if rel else name
            if after is not None:
                key = tuple(child.split("/"))
                if key <= after:
                    # before the cursor: only the cursor's own ancestors (or itself) are entered
                    if is_dir and after[: len(key)] == key:
                        push(fd, name, child)
                    continue
                after = None  # past the cursor: everything from here on is new
            scanned += 1
            if needle in name.casefold():
                found.append(_describe(fd, name, child))
                if len(found) == limit:
                    return found, child, False
            if scanned >= MAX_SCANNED:
                return found, child, True
            if is_dir:
                push(fd, name, child)
        return found, None, False
    finally:
        for fd, *_ in stack:
            os.close(fd)


def disk_usage(path: Path) -> tuple[int, int]:
    """(bytes, files) of the regular files under ``path`` (apparent sizes), symlinks never
    followed, folders opened relative to their parent's descriptor."""
    total = files = 0
    try:
        top = open_tree(os.path.realpath(path))
    except (OSError, ValueError):
        return 0, 0
    stack = [top]
    while stack:
        fd = stack.pop()
        try:
            with os.scandir(fd) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(os.open(e.name, DIR_FLAGS, dir_fd=fd))
                        elif e.is_file(follow_symlinks=False):
                            total += e.stat(follow_symlinks=False).st_size
                            files += 1
                    except OSError:
                        continue
        except OSError:
            pass
        finally:
            os.close(fd)
    return total, files
