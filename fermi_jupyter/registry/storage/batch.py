"""What one batch of files needs in a worker: the operation's context (its folders'
descriptors, the reader's credentials, the store), the result being built, and opening files
as the reader, relative to their folder's descriptor, without following symlinks."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from itertools import repeat

from . import hooks
from .creds import Reader, Switch
from .fsafe import CREATE_FLAGS, check_regular, open_read
from .hashing import SMALL
from .manifest import escape, parse_line, unescape
from .objects import Store

CAP = 100  # names listed per result list; the rest are counted
CREATE_RW = (CREATE_FLAGS & ~os.O_WRONLY) | os.O_RDWR  # a big copy is mapped to be hashed
Files = list[tuple[int, "str | None", "str | None"]]


class BatchError(Exception):
    """A failure that ends the operation: (errno or 0, sentence, reason)."""

    def __init__(self, err: int, message: str, reason: str = "io-error"):
        super().__init__(message)
        self.err = err
        self.reason = reason


@dataclass
class Context:
    """A worker's state for one operation."""

    op: str  # scan | snapshot | verify | restore
    dev: int  # device of the tree being read
    switch: Switch
    may_map: bool = True
    compare_modes: bool = True  # verify: reference versions compare modes, snapshots not
    store_uid: int | None = None  # verify of a snapshot: who must own stored files
    store: Store | None = None  # snapshot
    dirs: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # id → (src, dst, rel)
    owns_fds: bool = True
    view: memoryview = field(default_factory=lambda: memoryview(bytearray(SMALL)))

    def set_dirs(self, ids: list[int], new: list[tuple[int, str, bool]], fds: list[int]) -> None:
        if self.owns_fds:
            keep = set(ids)
            for i in [i for i in self.dirs if i not in keep]:
                src, dst, _rel = self.dirs.pop(i)
                os.close(src)
                if dst >= 0:
                    os.close(dst)
        it = iter(fds)
        for i, rel, has_dst in new:
            src = next(it)
            self.dirs[i] = (src, next(it) if has_dst else -1, rel)

    def close(self) -> None:
        if self.owns_fds:
            for src, dst, _rel in self.dirs.values():
                os.close(src)
                if dst >= 0:
                    os.close(dst)
            if self.store is not None:
                for fd in (self.store.objects, self.store.journal, self.store.previous):
                    if fd >= 0:
                        os.close(fd)
        self.dirs.clear()


def context_from(config: dict, fds: list[int], *, owns_fds: bool, may_map: bool) -> Context:
    """A :class:`Context` from the set-up message of an operation and its descriptors
    (``objects/``, the journal and the previous version's folder if any, for snapshots)."""
    reader = config.get("reader")
    store = None
    if config["op"] == "snapshot":
        store = Store(
            fds[0],
            fds[1] if len(fds) > 1 else -1,
            config.get("link_limit"),
            config["object_min"],  # set by snapshot() from the registry's configuration
            fds[2] if len(fds) > 2 else -1,
        )
    if config.get("hooks") is not None:
        hooks.DIR = config["hooks"]
    return Context(
        op=config["op"],
        dev=config["dev"],
        switch=Switch(Reader(reader[0], reader[1], tuple(reader[2])) if reader else None),
        may_map=may_map,
        compare_modes=config.get("compare_modes", True),
        store_uid=config.get("store_uid"),
        store=store,
        owns_fds=owns_fds,
    )


class Out:
    """One batch's result, accumulated."""

    def __init__(self) -> None:
        self.lines: list[str] = []  # manifest lines
        self.dlines: list[str] = []  # version-digest input, as found
        self.elines: list[str] = []  # version-digest input, as the manifest says (verify)
        self.files = self.bytes = self.new = 0
        self.skipped: list[str] = []
        self.nskipped = 0
        self.lists: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}

    def entry(self, rel: str, size: int, mode: int, mtime: int, digest: str) -> None:
        self.lines.append(f"{escape(rel)}\t{size}\t{mode:o}\t{mtime}\t{digest}\n")
        self.dlines.append(f"{rel}\0{size}\0{mode:o}\0{digest}\n")
        self.files += 1
        self.bytes += size

    def skip(self, rel: str, why: str) -> None:
        self.nskipped += 1
        if len(self.skipped) < CAP:
            self.skipped.append(f"skipped {why}: {rel}")

    def note(self, kind: str, rel: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        names = self.lists.setdefault(kind, [])
        if len(names) < CAP:
            names.append(rel)

    def result(self, seq: int) -> dict:
        enc = ("utf-8", "surrogateescape")
        return {
            "seq": seq,
            "manifest": "".join(self.lines).encode(*enc),
            "digest": "".join(self.dlines).encode(*enc),
            "expected": "".join(self.elines).encode(*enc),
            "files": self.files,
            "bytes": self.bytes,
            "new": self.new,
            "skipped": self.skipped,
            "nskipped": self.nskipped,
            "lists": self.lists,
            "counts": self.counts,
        }


def rel_of(drel: str, name: str) -> str:
    return f"{drel}/{name}" if drel else name


def file_error(e: OSError, rel: str) -> BatchError:
    """An error on one file as a sentence naming it (relative to the tree, never the
    server's paths); running out of space says so."""
    full = e.errno in (errno.ENOSPC, errno.EDQUOT)
    what = "no space left to store" if full else "cannot read or write"
    return BatchError(
        e.errno or 0, f"{what} {rel!r}: {e.strerror or e}", "no-space" if full else "io-error"
    )


def open_error(e: OSError, rel: str, out: Out) -> None:
    """A file that could not be opened: skipped if it changed under us, fatal otherwise."""
    if e.errno == errno.ENOENT:
        out.skip(rel, "file that vanished during the walk")
    elif e.errno in (errno.ELOOP, errno.ENOTDIR):
        out.skip(rel, "file replaced by a symlink during the walk (not followed)")
    elif e.errno in (errno.ENXIO, errno.EWOULDBLOCK):
        out.skip(rel, "file replaced by a fifo or socket during the walk")
    else:
        raise file_error(e, rel)


Runs = list[tuple[int, "list[str] | None", "list[str | None] | None"]]


def flatten(runs: Runs) -> Files:
    """A batch's runs — (folder id, names, their manifest lines or None) — as one entry per
    file (folder id 0 and name None: a manifest line with no file)."""
    flat: Files = []
    for dir_id, names, lines in runs:
        if names is None:
            flat.extend([(0, None, line) for line in lines])  # type: ignore[union-attr]
        elif lines is None:
            flat.extend([(dir_id, name, None) for name in names])
        else:
            flat.extend(zip(repeat(dir_id), names, lines))
    return flat


# -- opening, as the reader -----------------------------------------------------------------
Opened = list[tuple[int, str, int, object]]  # (fd, rel, destination folder, payload)


def open_all(ctx: Context, items: list[tuple[int, str | None, object]], out: Out) -> Opened:
    """Open every named file with the reader's credentials. Items are (folder id, name,
    payload); a name of None is a manifest line with no file (kept, fd -1). Files that
    vanished or were swapped since the walk are skipped; in a restore nothing may be."""
    opened: Opened = []
    dirs = ctx.dirs
    strict = ctx.op == "restore"
    with ctx.switch.as_reader():
        try:
            for dir_id, name, payload in items:
                if name is None:
                    opened.append((-1, "", -1, payload))
                    continue
                src, dst, drel = dirs[dir_id]
                try:
                    fd = open_read(src, name)
                except OSError as e:
                    if strict:
                        raise BatchError(
                            e.errno or 0,
                            f"cannot read {rel_of(drel, name)!r}: {e.strerror}; verify the version",
                            "corrupt",
                        ) from None
                    open_error(e, rel_of(drel, name), out)
                    if ctx.op == "verify" and payload is not None:
                        opened.append((-1, "", -1, payload))  # counted as removed
                    continue
                opened.append((fd, rel_of(drel, name), dst, payload))
        except BaseException:
            close_all(opened)
            raise
    return opened


def close_all(opened: Opened) -> None:
    for fd, *_ in opened:
        if fd >= 0:
            os.close(fd)


def checked(fd: int, rel: str, ctx: Context, out: Out) -> os.stat_result | None:
    st = os.fstat(fd)
    why = check_regular(st, ctx.dev)
    if why is not None:
        out.skip(rel, f"file ({why})")
        return None
    return st


def fields(line: str) -> tuple[str, str, str, str, str]:
    """A manifest line's (path, size, mode, mtime, digest) as the strings they are written
    as (the path unescaped), without converting numbers: what the per-file loops need."""
    try:
        path, size, mode, mtime, digest = line.rstrip("\n").rsplit("\t", 4)
    except ValueError:
        parse_line(line)  # raises the readable "corrupt manifest" error
        raise
    return (unescape(path) if "\\" in path else path), size, mode, mtime, digest


def expected(line: str, out: Out) -> tuple[str, str, str, str, str]:
    """The manifest's say on one file, fed to the expected version digest."""
    f = fields(line)
    out.elines.append(f"{f[0]}\0{f[1]}\0{f[2]}\0{f[4]}\n")
    return f
