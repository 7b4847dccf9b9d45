"""Per-file work that writes: storing a snapshot's files (read once, hashed, linked to the
stored object or stored as a new one) and restoring a version's files into a volume."""

from __future__ import annotations

import os
import stat

from blake3 import blake3

from .batch import (
    CREATE_RW,
    BatchError,
    Context,
    Files,
    Out,
    Runs,
    checked,
    close_all,
    fields,
    file_error,
    open_all,
    open_error,
    rel_of,
)
from .fsafe import CREATE_FLAGS, open_read
from .hashing import SMALL, copy_hashing_copy, hash_mapped, read_into
from .manifest import ManifestEntry, escape, parse_line
from .objects import EMPTY_DIGEST, OBJECT_MODE, Store, copy_all


# -- snapshot ---------------------------------------------------------------------------------
def store_runs(ctx: Context, runs: Runs, out: Out) -> None:
    """The hot loop of first snapshots (no previous version to compare with): per new small
    file one open, fstat, read and close of the source, then a create, write and close in
    the version (under ``object_min`` bytes: nothing else, unless the batch already holds that
    content); a bigger one is linked to its stored object, or becomes one."""
    store = ctx.store
    assert store is not None
    view, small, dev, omin = ctx.view, len(ctx.view), ctx.dev, store.object_min
    lines, dlines = out.lines, out.dlines
    fstat, readv, close, isreg, oopen = os.fstat, os.readv, os.close, stat.S_ISREG, os.open
    link, link_pending, stage = store.link, store.link_pending, store.stage
    files = nbytes = new = 0
    for dir_id, names, _ in runs:
        src, dst, drel = ctx.dirs[dir_id]
        prefix = f"{drel}/" if drel else ""
        eprefix = escape(prefix)
        fds: list[int] = []
        with ctx.switch.as_reader():  # every open with the reader's permissions
            for name in names:  # type: ignore[union-attr]
                try:
                    fds.append(open_read(src, name))
                except OSError as e:
                    open_error(e, prefix + name, out)
                    fds.append(-1)
        try:
            for i, name in enumerate(names):  # type: ignore[arg-type]
                fd = fds[i]
                if fd < 0:
                    continue
                st = fstat(fd)
                if not isreg(st.st_mode) or st.st_dev != dev:
                    checked(fd, prefix + name, ctx, out)  # says why it is skipped
                    continue
                size, mtime = st.st_size, st.st_mtime_ns
                try:
                    if size >= small or size == 0:
                        digest, n, added = _store(ctx, store, fd, st, dst, name)
                        new += added
                    else:
                        n = readv(fd, [view])
                        if n < size:  # a short read: the rest, if any
                            n += read_into(fd, view[n:])
                        if n == 0 or n >= small:  # it changed since the fstat
                            digest, n, added = _store(ctx, store, fd, st, dst, name)
                            new += added
                        else:
                            data = view[:n]
                            digest = blake3(data).hexdigest()
                            if not (
                                link_pending(digest, dst, name)
                                or (n >= omin and link(digest, dst, name))
                            ):
                                o = oopen(name, CREATE_FLAGS, OBJECT_MODE, dir_fd=dst)
                                try:
                                    _write_all(o, data)
                                    os.utime(o, ns=(mtime, mtime))
                                finally:
                                    close(o)
                                stage(digest, dst, name, n)
                except OSError as e:
                    raise file_error(e, prefix + name) from None
                mode = f"{st.st_mode & 0o7777:o}"
                lines.append(f"{eprefix}{escape(name)}\t{n}\t{mode}\t{mtime}\t{digest}\n")
                dlines.append(f"{prefix}{name}\0{n}\0{mode}\0{digest}\n")
                files += 1
                nbytes += n
        finally:
            for fd in fds:
                if fd >= 0:
                    close(fd)
    out.files += files
    out.bytes += nbytes
    out.new += new + store.flush()


def snapshot_files(ctx: Context, files: Files, out: Out) -> None:
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
                open_error(e, rel_of(drel, name), out)  # type: ignore[arg-type]
                continue
            _path, size, _mode, mtime, digest = fields(line)  # type: ignore[arg-type]
            if (
                stat.S_ISREG(st.st_mode)
                and st.st_dev == ctx.dev
                and st.st_size == int(size)
                and st.st_mtime_ns == int(mtime)
            ):
                quick.append((pos, dir_id, name, st, digest))  # type: ignore[arg-type]
            else:
                to_open.append((dir_id, name, pos))  # type: ignore[arg-type]
    for pos, dir_id, name, st, digest in quick:
        _src, dst, drel = dirs[dir_id]
        rel = rel_of(drel, name)
        try:
            if st.st_size == 0:
                store.empty(dst, name, st.st_mtime_ns)
            elif not (store.link_previous(rel, dst, name) or store.link(digest, dst, name)):
                to_open.append((dir_id, name, pos))  # gone meanwhile: read it after all
                continue
        except OSError as e:
            raise file_error(e, rel) from None
        done[pos] = (
            rel,
            st.st_size,
            stat.S_IMODE(st.st_mode),
            st.st_mtime_ns,
            digest,
        )
    to_open.sort(key=lambda t: t[2])  # type: ignore[arg-type,return-value]
    # 2. everything else: opened as the reader, read, hashed and stored as the registry
    opened = open_all(ctx, to_open, out)  # type: ignore[arg-type]
    try:
        for fd, rel, dst, pos in opened:
            st = checked(fd, rel, ctx, out)
            if st is None:
                continue
            line = files[pos][2]  # type: ignore[index]
            before = fields(line)[4] if line is not None else None
            try:
                name = rel.rpartition("/")[2]
                digest, n, new = _store(ctx, store, fd, st, dst, name, rel, before)
            except OSError as e:
                raise file_error(e, rel) from None
            done[pos] = (rel, n, stat.S_IMODE(st.st_mode), st.st_mtime_ns, digest)  # type: ignore[index]
            out.new += new
    finally:
        close_all(opened)
    out.new += store.flush()
    for entry in done:
        if entry is not None:
            out.entry(*entry)


def _store(
    ctx: Context,
    store: Store,
    fd: int,
    st: os.stat_result,
    dst: int,
    name: str,
    rel: str = "",
    before: str | None = None,
) -> tuple[str, int, int]:
    """Copy one opened source file into the version: (digest, bytes, bytes newly stored).
    ``before``: the digest the previous version has at ``rel`` (a small file with that
    content is linked to it: touched, not changed)."""
    mtime = st.st_mtime_ns
    if st.st_size == 0:  # as it was when opened: created, never linked, nothing to read
        store.empty(dst, name, mtime)
        return EMPTY_DIGEST, 0, 0
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
        if (
            store.link_pending(digest, dst, name)
            or (digest == before and store.link_previous(rel, dst, name))
            or (n >= store.object_min and store.link(digest, dst, name))
        ):
            return digest, n, 0
        out = os.open(name, CREATE_FLAGS, OBJECT_MODE, dir_fd=dst)
        try:
            _write_all(out, data)
            os.utime(out, ns=(mtime, mtime))
        finally:
            os.close(out)
        store.stage(digest, dst, name, n)
        return digest, n, 0  # (counted as new when the batch's objects are named)
    # big: copied by the kernel, and the copy (which nobody else can change) hashed behind it
    out = os.open(name, CREATE_RW, OBJECT_MODE, dir_fd=dst)
    try:
        digest, n = copy_hashing_copy(fd, out)
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
def restore_files(ctx: Context, files: Files, out: Out) -> None:
    """Copy version files (the walked version tree) into the destination folders as the
    reader (the volume owner): plain files with the manifest's mode and mtime, each checked
    against its digest. Set-id bits are never restored."""
    opened = open_all(ctx, files, out)  # type: ignore[arg-type]
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
        close_all(opened)


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
