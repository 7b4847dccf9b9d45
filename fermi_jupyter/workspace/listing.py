"""Browsing a mounted volume from this server: a page of a folder, or a name search below it.

A volume is its owner's ground, and they (or a job they run) may swap any folder for a symlink
at any moment. So the mount's root is opened once (``O_DIRECTORY | O_NOFOLLOW``) and every
folder below is opened relative to its parent's descriptor without following links; no checked
path string is ever resolved again. Only the entries of the page are stat'ed.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from .errors import WorkspaceError
from .reasons import Reason

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_PATH = 4096


@dataclass(frozen=True)
class Entry:
    name: str
    path: str  # relative to the listed root
    type: str  # dir | file | symlink | other
    size: int | None
    mtime: float | None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Listing:
    items: list[Entry]
    next_cursor: str | None
    truncated: bool


def split(rel: str) -> list[str]:
    """The components of a user-given relative path; refuses what could leave the root."""
    if not isinstance(rel, str) or "\0" in rel or len(rel) > MAX_PATH:
        raise WorkspaceError("the path is not a usable folder name", Reason.path_refused)
    if rel.startswith("/"):
        raise WorkspaceError(
            f"{rel!r} is absolute: give a path relative to the volume root", Reason.path_refused
        )
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise WorkspaceError(
            f"{rel!r} contains '..': paths stay inside the volume", Reason.path_refused
        )
    return parts


@contextlib.contextmanager
def open_dir(root: str, parts: list[str]) -> Iterator[int]:
    """A descriptor of ``root/parts…``, each step opened without following a symlink."""
    try:
        fd = os.open(root, DIR_FLAGS)
    except OSError as e:
        raise _refusal(e, "/") from None
    try:
        for i, part in enumerate(parts):
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno == errno.ENOTDIR and _is_link(fd, part):
                    e = OSError(errno.ELOOP, "symlink")
                raise _refusal(e, "/".join(parts[: i + 1])) from None
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _refusal(e: OSError, rel: str) -> WorkspaceError:
    if e.errno == errno.ENOENT:
        return WorkspaceError(f"{rel!r} does not exist in the volume", Reason.not_found)
    if e.errno == errno.ELOOP:
        return WorkspaceError(f"{rel!r} is a symlink: it is not followed", Reason.path_refused)
    if e.errno == errno.ENOTDIR:
        return WorkspaceError(f"{rel!r} is not a folder", Reason.not_a_directory)
    return WorkspaceError(f"cannot read {rel!r}: {e.strerror}", Reason.io_error)


def _describe(dir_fd: int, name: str, rel: str) -> Entry:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:  # removed between listing and stat
        return Entry(name, rel, "other", None, None)
    mode = st.st_mode
    kind = (
        "dir" if stat.S_ISDIR(mode)
        else "file" if stat.S_ISREG(mode)
        else "symlink" if stat.S_ISLNK(mode)
        else "other"
    )  # fmt: skip
    return Entry(name, rel, kind, st.st_size if kind == "file" else None, st.st_mtime)


def list_dir(root: str, rel: str, *, limit: int = 100, cursor: str | None = None) -> Listing:
    """One page of a folder, by name, after ``cursor`` (the last name of the previous page)."""
    parts = split(rel)
    prefix = "/".join(parts)
    with open_dir(root, parts) as fd:
        names = [n for n in os.listdir(fd) if cursor is None or n > cursor]
        page = heapq.nsmallest(limit + 1, names)
        items = [_describe(fd, n, f"{prefix}/{n}" if prefix else n) for n in page[:limit]]
    return Listing(items, page[limit - 1] if len(page) > limit else None, False)


def search(
    root: str,
    rel: str,
    needle: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    budget: int = 50_000,
    deadline: float | None = None,
    cancel: threading.Event | None = None,
) -> Listing:
    """Names containing ``needle`` (case-insensitive) below ``rel``, depth first in tree order.

    A page ends after ``limit`` matches, ``budget`` entries scanned or at ``deadline``
    (``time.monotonic()``); ``next_cursor`` is the last path looked at, so the next page resumes
    exactly there. ``cancel`` stops the walk (the client went away).
    """
    parts = split(rel)
    prefix = "/".join(parts)
    after = tuple(cursor.split("/")) if cursor else None
    needle = needle.lower()
    found: list[Entry] = []
    scanned = 0
    with open_dir(root, parts) as top:
        # (descriptor, sorted names, next index, relative path); descriptors closed on the way out
        stack: list[tuple[int, list[str], int, str]] = [
            (os.dup(top), sorted(os.listdir(top)), 0, prefix)
        ]
        try:
            while stack:
                fd, names, i, here = stack[-1]
                if i >= len(names):
                    os.close(fd)
                    stack.pop()
                    continue
                stack[-1] = (fd, names, i + 1, here)
                name = names[i]
                child = f"{here}/{name}" if here else name
                key = tuple(child.split("/"))
                scanned += 1
                if scanned % 512 == 0 and (
                    (cancel is not None and cancel.is_set())
                    or (deadline is not None and time.monotonic() > deadline)
                ):
                    return Listing(found, child, True)
                if scanned > budget:
                    return Listing(found, child, True)
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                is_dir = stat.S_ISDIR(st.st_mode)
                ancestor = after is not None and is_dir and after[: len(key)] == key
                if after is not None and key <= after and not ancestor:
                    continue
                if (after is None or key > after) and needle in name.lower():
                    found.append(_describe(fd, name, child))
                    if len(found) == limit:
                        return Listing(found, child, False)
                if is_dir:
                    try:
                        sub = os.open(name, DIR_FLAGS, dir_fd=fd)
                    except OSError:
                        continue  # unreadable, or swapped for a symlink: passed over
                    try:
                        stack.append((sub, sorted(os.listdir(sub)), 0, child))
                    except OSError:
                        os.close(sub)
        finally:
            for fd, *_ in stack:
                os.close(fd)
    return Listing(found, None, False)


EXTENSIONS = {
    "image": {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".dcm"},
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"},
    "video": {".mp4", ".mkv", ".avi", ".mov", ".webm"},
    "text": {".txt", ".json", ".jsonl", ".csv", ".tsv", ".md", ".xml", ".parquet", ".arrow"},
}


def data_type_of(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return next((kind for kind, exts in EXTENSIONS.items() if ext in exts), "other")


def summarize(root: str, rel: str, *, budget: int = 50_000) -> dict:
    """Files, folders and bytes below ``rel``, counted by data type, and a suggested type."""
    files = dirs = nbytes = scanned = 0
    by_type: dict[str, int] = {}
    exts: dict[str, int] = {}
    truncated = False
    with open_dir(root, split(rel)) as top:
        stack = [os.dup(top)]
        try:
            while stack:
                fd = stack.pop()
                try:
                    names = os.listdir(fd)
                    for name in names:
                        scanned += 1
                        if scanned > budget:
                            truncated = True
                            break
                        try:
                            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        except OSError:
                            continue
                        if stat.S_ISDIR(st.st_mode):
                            dirs += 1
                            with contextlib.suppress(OSError):
                                stack.append(os.open(name, DIR_FLAGS, dir_fd=fd))
                        elif stat.S_ISREG(st.st_mode):
                            files += 1
                            nbytes += st.st_size
                            kind = data_type_of(name)
                            by_type[kind] = by_type.get(kind, 0) + 1
                            ext = os.path.splitext(name)[1].lower() or "(none)"
                            exts[ext] = exts.get(ext, 0) + 1
                finally:
                    os.close(fd)
                if truncated:
                    break
        finally:
            for fd in stack:
                os.close(fd)
    return {
        "files": files,
        "dirs": dirs,
        "bytes": nbytes,
        "by_data_type": by_type,
        "extensions": dict(sorted(exts.items(), key=lambda kv: -kv[1])[:20]),
        "suggested_data_type": suggest(by_type),
        "truncated": truncated,
    }


def suggest(by_type: dict[str, int]) -> str:
    """The type of at least 80 % of the files; ``mixed`` otherwise (``other`` when empty)."""
    total = sum(by_type.values())
    if not total:
        return "other"
    kind, n = max(by_type.items(), key=lambda kv: kv[1])
    return kind if n >= 0.8 * total else "mixed"
