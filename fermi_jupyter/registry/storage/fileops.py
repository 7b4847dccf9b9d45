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

import os
import stat

from blake3 import blake3

from . import hooks
from .batch import (
    Context,
    Files,
    Out,
    Runs,
    checked,
    close_all,
    expected,
    file_error,
    flatten,
    open_all,
    open_error,
)
from .copying import restore_files, snapshot_files, store_runs
from .fsafe import open_read
from .hashing import hash_file, hash_stream, read_into
from .manifest import escape
from .objects import OBJECT_MODE


def run_batch(ctx: Context, seq: int, runs: Runs) -> dict:
    if hooks.DIR is not None:
        names = [n for _d, ns, _l in runs for n in ns or ()]
        hooks.pause("worker-batch", op=ctx.op, names=names[:50])
    out = Out()
    if ctx.op == "scan":
        _scan(ctx, runs, out)
        return out.result(seq)
    if ctx.op == "snapshot" and all(lines is None for _d, _n, lines in runs):
        store_runs(ctx, runs, out)  # nothing to compare with: the tight loop
        return out.result(seq)
    files = flatten(runs)
    if ctx.op == "snapshot":
        snapshot_files(ctx, files, out)
    elif ctx.op == "restore":
        restore_files(ctx, files, out)
    else:
        _hash(ctx, files, out)
    return out.result(seq)


# -- scan and verify ----------------------------------------------------------------------------
def _scan(ctx: Context, runs: Runs, out: Out) -> None:
    """The hot loop of reference versions (and the model of the others): per file one open
    relative to the folder, one fstat, one read for a small file, one close."""
    view, small, dev, may_map = ctx.view, len(ctx.view), ctx.dev, ctx.may_map
    lines, dlines = out.lines, out.dlines
    fstat, readv, close, isreg = os.fstat, os.readv, os.close, stat.S_ISREG
    files = nbytes = 0
    for dir_id, names, _ in runs:
        src, _dst, drel = ctx.dirs[dir_id]
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
                size = st.st_size
                try:
                    if size < small:
                        n = readv(fd, [view])
                        if n < size:  # a short read: the rest, if any
                            n += read_into(fd, view[n:])
                        if n < small:
                            digest = blake3(view[:n]).hexdigest()
                        else:
                            digest, n = hash_stream(fd, view, n)
                    else:
                        digest, n = hash_file(fd, size, view, may_map=may_map)
                except OSError as e:
                    raise file_error(e, prefix + name) from None
                mode = f"{st.st_mode & 0o7777:o}"
                lines.append(f"{eprefix}{escape(name)}\t{n}\t{mode}\t{st.st_mtime_ns}\t{digest}\n")
                dlines.append(f"{prefix}{name}\0{n}\0{mode}\0{digest}\n")
                files += 1
                nbytes += n
        finally:
            for fd in fds:
                if fd >= 0:
                    close(fd)
    out.files += files
    out.bytes += nbytes


def _hash(ctx: Context, files: Files, out: Out) -> None:
    verifying = ctx.op == "verify"
    opened = open_all(ctx, files, out)  # type: ignore[arg-type]
    try:
        for fd, rel, _dst, line in opened:
            if fd < 0:  # in the manifest, not on disk
                out.note("removed", expected(line, out)[0])  # type: ignore[arg-type]
                continue
            st = checked(fd, rel, ctx, out)
            if st is None:
                if verifying and line is not None:
                    out.note("removed", expected(line, out)[0])  # type: ignore[arg-type]
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
        close_all(opened)


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
    octal = f"{mode:o}"
    if line is None:
        out.note("added", rel)
    else:
        _path, size, want_mode, _mtime, want = expected(line, out)
        if not ctx.compare_modes:
            octal = want_mode  # snapshots store every file 0444; the manifest keeps the source's
        if (size, want, want_mode) != (str(n), digest, octal):
            out.note("changed", rel)
    out.files += 1
    out.bytes += n
    out.dlines.append(f"{rel}\0{n}\0{octal}\0{digest}\n")
