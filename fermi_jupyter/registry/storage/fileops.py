"""The per-file work of every operation, one batch at a time: what a worker process runs (and,
for trees of a few hundred small files, the registry itself).

A batch names files as runs (folder id, names, their manifest lines or None); the folders
come as descriptors. Every file is opened relative to its folder's descriptor without following
symlinks, and what was opened is checked (a regular file on the tree's device) before a byte
is read. Opening happens with the reader's credentials (the volume owner's, where known);
writing into the store with the registry's. A batch's result carries its manifest lines and
version-digest input already formatted, so the registry only appends them.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from itertools import repeat

from blake3 import blake3

from . import hooks
from .creds import Reader, Switch
from .fsafe import CREATE_FLAGS, check_regular, open_read
from .hashing import SMALL, hash_file, hash_mapped, read_into
from .manifest import ManifestEntry, escape, parse_line
from .objects import EMPTY_DIGEST, OBJECT_MODE, Store, copy_all

CAP = 100  # names listed per result list; the rest are counted
_CREATE_RW = (CREATE_FLAGS & ~os.O_WRONLY) | os.O_RDWR  # a big copy is mapped to be hashed
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
                for fd in (self.store.objects, self.store.journal):
                    if fd >= 0:
                        os.close(fd)
        self.dirs.clear()


def context_from(config: dict, fds: list[int], *, owns_fds: bool, may_map: bool) -> Context:
    """A :class:`Context` from the set-up message of an operation and its descriptors
    (``objects/`` and the journal, for snapshots)."""
    reader = config.get("reader")
    store = None
    if config["op"] == "snapshot":
        store = Store(fds[0], fds[1] if len(fds) > 1 else -1, config.get("link_limit"))
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


def _rel(drel: str, name: str) -> str:
    return f"{drel}/{name}" if drel else name


def file_error(e: OSError, rel: str) -> BatchError:
    """An error on one file as a sentence naming it (relative to the tree, never the
    server's paths); running out of space says so."""
    full = e.errno in (errno.ENOSPC, errno.EDQUOT)
    what = "no space left to store" if full else "cannot read or write"
    return BatchError(
        e.errno or 0, f"{what} {rel!r}: {e.strerror or e}", "no-space" if full else "io-error"
    )


def _open_error(e: OSError, rel: str, out: Out) -> None:
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


def run_batch(ctx: Context, seq: int, runs: Runs) -> dict:
    files = flatten(runs)
    if hooks.DIR is not None:
        hooks.pause("worker-batch", op=ctx.op, names=[f[1] for f in files[:50]])
    out = Out()
    if ctx.op == "snapshot":
        _snapshot(ctx, files, out)
    elif ctx.op == "restore":
        _restore(ctx, files, out)
    else:
        _hash(ctx, files, out)
    return out.result(seq)


# -- opening, as the reader -----------------------------------------------------------------
Opened = list[tuple[int, str, int, object]]  # (fd, rel, destination folder, payload)


def _open_all(ctx: Context, items: list[tuple[int, str | None, object]], out: Out) -> Opened:
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
                            f"cannot read {_rel(drel, name)!r}: {e.strerror}; verify this version",
                            "corrupt",
                        ) from None
                    _open_error(e, _rel(drel, name), out)
                    if ctx.op == "verify" and payload is not None:
                        opened.append((-1, "", -1, payload))  # counted as removed
                    continue
                opened.append((fd, _rel(drel, name), dst, payload))
        except BaseException:
            _close_all(opened)
            raise
    return opened


def _close_all(opened: Opened) -> None:
    for fd, *_ in opened:
        if fd >= 0:
            os.close(fd)


def _checked(fd: int, rel: str, ctx: Context, out: Out) -> os.stat_result | None:
    st = os.fstat(fd)
    why = check_regular(st, ctx.dev)
    if why is not None:
        out.skip(rel, f"file ({why})")
        return None
    return st


def _expected(line: str, out: Out) -> ManifestEntry:
    e = parse_line(line)
    out.elines.append(f"{e.path}\0{e.size}\0{e.mode:o}\0{e.digest}\n")
    return e


# -- scan and verify ----------------------------------------------------------------------------
def _hash(ctx: Context, files: Files, out: Out) -> None:
    verifying = ctx.op == "verify"
    opened = _open_all(ctx, files, out)  # type: ignore[arg-type]
    try:
        for fd, rel, _dst, line in opened:
            if fd < 0:  # in the manifest, not on disk
                out.note("removed", _expected(line, out).path)  # type: ignore[arg-type]
                continue
            st = _checked(fd, rel, ctx, out)
            if st is None:
                if verifying and line is not None:
                    out.note("removed", _expected(line, out).path)  # type: ignore[arg-type]
                continue
            try:
                digest, n = hash_file(fd, st.st_size, ctx.view, may_map=ctx.may_map)
            except OSError as e:
                raise file_error(e, rel) from None
            mode = stat.S_IMODE(st.st_mode)
            if verifying:
                _compare(ctx, out, rel, n, mode, st, digest, line)  # type: ignore[arg-type]
            else:
                out.entry(rel, n, mode, st.st_mtime_ns, digest)
    finally:
        _close_all(opened)


def _compare(
    ctx: Context,
    out: Out,
    rel: str,
    n: int,
    mode: int,
    st: os.stat_result,
    digest: str,
    line: str | None,
) -> None:
    if ctx.store_uid is not None and (mode != OBJECT_MODE or st.st_uid != ctx.store_uid):
        out.note("unprotected", rel)  # a stored file someone could write (or did chmod)
    if line is None:
        out.note("added", rel)
    else:
        e = _expected(line, out)
        if not ctx.compare_modes:
            mode = e.mode  # snapshots store every file 0444; the manifest keeps the source's
        if (e.size, e.digest, e.mode) != (n, digest, mode):
            out.note("changed", rel)
    out.files += 1
    out.bytes += n
    out.dlines.append(f"{rel}\0{n}\0{mode:o}\0{digest}\n")


# -- snapshot ---------------------------------------------------------------------------------
def _snapshot(ctx: Context, files: Files, out: Out) -> None:
    store = ctx.store
    assert store is not None
    dirs = ctx.dirs
    done: list[tuple[str, int, int, int, str] | None] = [None] * len(files)
    to_open: list[tuple[int, str, object]] = []
    # 1. files with the size and mtime they had in the previous version: linked, not read
    #    (rsync's quick check). The stat, like every open, is made as the reader.
    quick: list[tuple[int, int, str, os.stat_result, str]] = []
    with ctx.switch.as_reader():
        for pos, (dir_id, name, line) in enumerate(files):
            if line is None:
                to_open.append((dir_id, name, pos))  # type: ignore[arg-type]
                continue
            src, _dst, drel = dirs[dir_id]
            try:
                st = os.stat(name, dir_fd=src, follow_symlinks=False)  # type: ignore[arg-type]
            except OSError as e:
                _open_error(e, _rel(drel, name), out)  # type: ignore[arg-type]
                continue
            prev = parse_line(line)
            if (
                stat.S_ISREG(st.st_mode)
                and st.st_dev == ctx.dev
                and (st.st_size, st.st_mtime_ns) == (prev.size, prev.mtime_ns)
            ):
                quick.append((pos, dir_id, name, st, prev.digest))  # type: ignore[arg-type]
            else:
                to_open.append((dir_id, name, pos))  # type: ignore[arg-type]
    for pos, dir_id, name, st, digest in quick:
        _src, dst, drel = dirs[dir_id]
        try:
            if st.st_size == 0:
                store.empty(dst, name, st.st_mtime_ns)
            elif not store.link(digest, dst, name):
                to_open.append((dir_id, name, pos))  # no longer stored: read it after all
                continue
        except OSError as e:
            raise file_error(e, _rel(drel, name)) from None
        done[pos] = (_rel(drel, name), st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns, digest)
    to_open.sort(key=lambda t: t[2])  # type: ignore[arg-type,return-value]
    # 2. everything else: opened as the reader, read, hashed and stored as the registry
    opened = _open_all(ctx, to_open, out)  # type: ignore[arg-type]
    try:
        for fd, rel, dst, pos in opened:
            st = _checked(fd, rel, ctx, out)
            if st is None:
                continue
            try:
                digest, n, new = _store(ctx, store, fd, st, dst, rel.rpartition("/")[2])
            except OSError as e:
                raise file_error(e, rel) from None
            done[pos] = (rel, n, stat.S_IMODE(st.st_mode), st.st_mtime_ns, digest)  # type: ignore[index]
            out.new += new
    finally:
        _close_all(opened)
    for entry in done:
        if entry is not None:
            out.entry(*entry)


def _store(
    ctx: Context, store: Store, fd: int, st: os.stat_result, dst: int, name: str
) -> tuple[str, int, int]:
    """Copy one opened source file into the version: (digest, bytes, bytes newly stored)."""
    mtime = st.st_mtime_ns
    if st.st_size <= SMALL or not ctx.may_map:
        view = ctx.view
        n = read_into(fd, view)
        if n == len(view):
            return _store_streamed(store, fd, dst, name, mtime, view, n)
        data = view[:n]
        digest = blake3(data).hexdigest()
        if n == 0:
            store.empty(dst, name, mtime)
            return digest, 0, 0
        if store.link(digest, dst, name):
            return digest, n, 0
        out = os.open(name, CREATE_FLAGS, OBJECT_MODE, dir_fd=dst)
        try:
            _write_all(out, data)
            os.utime(out, ns=(mtime, mtime))
        finally:
            os.close(out)
        return digest, n, (n if store.publish(digest, dst, name) else 0)
    # big: copied by the kernel, then the copy (which nobody else can change) is hashed
    out = os.open(name, _CREATE_RW, OBJECT_MODE, dir_fd=dst)
    try:
        n = copy_all(fd, out)
        digest = hash_mapped(out, n) if n else EMPTY_DIGEST
        os.utime(out, ns=(mtime, mtime))
    finally:
        os.close(out)
    return digest, n, (n if store.publish(digest, dst, name) else 0)


def _store_streamed(
    store: Store, fd: int, dst: int, name: str, mtime: int, view: memoryview, first: int
) -> tuple[str, int, int]:
    h = blake3(max_threads=blake3.AUTO)
    out = os.open(name, CREATE_FLAGS, OBJECT_MODE, dir_fd=dst)
    total = 0
    try:
        n = first
        while n:
            chunk = view[:n]
            h.update(chunk)
            _write_all(out, chunk)
            total += n
            n = os.readv(fd, [view])
        os.utime(out, ns=(mtime, mtime))
    finally:
        os.close(out)
    digest = h.hexdigest()
    return digest, total, (total if store.publish(digest, dst, name) else 0)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


# -- restore ----------------------------------------------------------------------------------
def _restore(ctx: Context, files: Files, out: Out) -> None:
    """Copy version files (the walked version tree) into the destination folders as the
    reader (the volume owner): plain files with the manifest's mode and mtime, each checked
    against its digest. Set-id bits are never restored."""
    opened = _open_all(ctx, files, out)  # type: ignore[arg-type]
    try:
        with ctx.switch.as_reader():
            for fd, rel, dst, line in opened:
                if fd < 0 or line is None:
                    missing = parse_line(line).path if fd < 0 else rel  # type: ignore[arg-type]
                    what = "misses" if fd < 0 else "holds a file its manifest does not list:"
                    raise BatchError(
                        0,
                        f"the version's files are incomplete: it {what} {missing!r}; "
                        "verify this version",
                        "corrupt",
                    )
                e = parse_line(line)  # type: ignore[arg-type]
                try:
                    digest, n = _restore_one(ctx, fd, dst, rel.rpartition("/")[2], e)
                except OSError as err:
                    raise file_error(err, rel) from None
                if (n, digest) != (e.size, e.digest):
                    raise BatchError(
                        0,
                        f"{rel} does not match the version's manifest: verify this version",
                        "corrupt",
                    )
                out.files += 1
                out.bytes += n
                out.dlines.append(f"{e.path}\0{e.size}\0{e.mode:o}\0{e.digest}\n")
    finally:
        _close_all(opened)


def _restore_one(ctx: Context, fd: int, dst: int, name: str, e: ManifestEntry) -> tuple[str, int]:
    st = os.fstat(fd)
    target = os.open(name, CREATE_FLAGS, 0o600, dir_fd=dst)
    try:
        if st.st_size > SMALL and ctx.may_map:
            n = copy_all(fd, target)
            digest = hash_mapped(fd, n) if n else EMPTY_DIGEST
        else:
            digest, n = _copy_hashing(fd, target, ctx.view)
        os.fchmod(target, e.mode & 0o777)
        os.utime(target, ns=(e.mtime_ns, e.mtime_ns))
    finally:
        os.close(target)
    return digest, n


def _copy_hashing(src: int, out: int, view: memoryview) -> tuple[str, int]:
    h = blake3(max_threads=blake3.AUTO)
    total = 0
    while True:
        n = read_into(src, view)
        if n:
            h.update(view[:n])
            _write_all(out, view[:n])
            total += n
        if n < len(view):
            return h.hexdigest(), total
