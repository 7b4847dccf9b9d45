"""Manifests: one line per file (path, size, mode, mtime, BLAKE3), streamed, never all in memory.

File format (docs/reference/manifest.md)::

    #fermi-manifest v1
    <path>\t<size>\t<mode, octal>\t<mtime_ns>\t<blake3 hex>

Paths escape ``\\``, tab and newline. Entries are in *tree order*: sorted by the tuple of
their path components, i.e. a depth-first walk with each directory's names sorted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from blake3 import blake3

from .errors import StorageError

HEADER = "#fermi-manifest v1\n"
_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n"})
_UNESC = {"\\": "\\", "t": "\t", "n": "\n"}
# names are str decoded with surrogateescape (what os.scandir gives for undecodable bytes), so
# every name round-trips to its exact bytes on disk
ENCODING = ("utf-8", "surrogateescape")


@dataclass
class ManifestEntry:
    path: str
    size: int
    mode: int
    mtime_ns: int
    digest: str

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))


def tree_key(path: str) -> tuple[str, ...]:
    """The sort key of tree order."""
    return tuple(path.split("/"))


def escape(path: str) -> str:
    if "\\" in path or "\t" in path or "\n" in path:
        return path.translate(_ESC)
    return path


def unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(_UNESC.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def format_line(path: str, size: int, mode: int, mtime_ns: int, digest: str) -> str:
    return f"{escape(path)}\t{size}\t{mode:o}\t{mtime_ns}\t{digest}\n"


def digest_line(path: str, size: int, mode: int, digest: str) -> bytes:
    """One entry's contribution to the version digest (mtime is deliberately not in it)."""
    return f"{path}\0{size}\0{mode:o}\0{digest}\n".encode(*ENCODING)


def parse_line(line: str) -> ManifestEntry:
    try:
        path, size, mode, mtime, digest = line.rstrip("\n").split("\t")
        return ManifestEntry(unescape(path), int(size), int(mode, 8), int(mtime), digest)
    except ValueError:
        raise StorageError(f"corrupt manifest line: {line[:80]!r}", "corrupt-manifest") from None


class VersionDigest:
    """The whole-version digest, fed entry by entry in tree order."""

    def __init__(self) -> None:
        self._h = blake3()

    def add(self, e: ManifestEntry, mode: int | None = None) -> None:
        m = e.mode if mode is None else mode
        self._h.update(digest_line(e.path, e.size, m, e.digest))

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return "blake3:" + self._h.hexdigest()


def version_digest(entries: Iterable[ManifestEntry]) -> str:
    """The version digest of ``entries`` (which must already be in tree order)."""
    d = VersionDigest()
    for e in entries:
        d.add(e)
    return d.hexdigest()


class ManifestWriter:
    """Writes to ``<path>.tmp`` and renames on ``commit``, so a manifest is whole or absent.

    Lines arrive in tree order, a batch at a time, already formatted by the workers (with
    the version digest's input for the same entries): one ``write`` and one ``update`` per
    batch, nothing per file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = tmp_path_of(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed by commit/abort
        self._f.write(HEADER.encode())
        self.digest = VersionDigest()
        self.files = 0
        self.bytes = 0

    def add_chunk(self, lines: bytes, digest_input: bytes, files: int, nbytes: int) -> None:
        self._f.write(lines)
        self.digest.update(digest_input)
        self.files += files
        self.bytes += nbytes

    def add(self, path: str, size: int, mode: int, mtime_ns: int, digest: str) -> None:
        self.add_chunk(
            format_line(path, size, mode, mtime_ns, digest).encode(*ENCODING),
            digest_line(path, size, mode, digest),
            1,
            size,
        )

    def commit(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())  # one fsync per version: the manifest is the record
        self._f.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Close and delete the temp file (idempotent)."""
        if not self._f.closed:
            with contextlib.suppress(OSError):  # the unflushed rest is not wanted (disk full)
                self._f.close()
        self.tmp.unlink(missing_ok=True)


class ManifestCursor:
    """Reads a manifest alongside a walk of a tree, both in tree order: ``take(rel)`` gives
    the line for ``rel`` (or None) and the lines before it that the tree does not have."""

    def __init__(self, path: Path | None):
        self._lines = _raw_lines(Path(path), False) if path is not None else iter(())
        self.line: str | None = None
        self.path = ""
        self._advance()

    def _advance(self) -> None:
        line = next(self._lines, None)
        self.line = line
        if line is not None:
            p = line[: line.find("\t")]
            self.path = unescape(p) if "\\" in p else p

    def take(self, rel: str) -> tuple[str | None, list[str]]:
        missing: list[str] = []
        while self.line is not None:
            if self.path == rel:
                line = self.line
                self._advance()
                return line, missing
            if tree_key(self.path) > tree_key(rel):
                break
            missing.append(self.line)
            self._advance()
        return None, missing

    def rest(self) -> Iterator[str]:
        while self.line is not None:
            yield self.line
            self._advance()


def tmp_path_of(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".tmp")


def _raw_lines(path: Path, partial_ok: bool) -> Iterator[str]:
    try:
        f = open(path, encoding=ENCODING[0], errors=ENCODING[1], buffering=1 << 20)  # noqa: SIM115
    except FileNotFoundError:
        raise StorageError("this version has no manifest on disk", "not-found") from None
    with f:
        if f.readline() != HEADER:
            raise StorageError(f"{Path(path).name} is not a fermi manifest", "corrupt-manifest")
        for line in f:
            if not line.endswith("\n"):
                if partial_ok:
                    return  # a temp manifest cut short by a crash: its last line is incomplete
                raise StorageError(f"{Path(path).name} is truncated", "corrupt-manifest")
            yield line


def iter_manifest(path: Path, *, partial_ok: bool = False) -> Iterator[ManifestEntry]:
    """Stream the entries of a manifest (``partial_ok``: a temp one left by a crash)."""
    for line in _raw_lines(path, partial_ok):
        yield parse_line(line)


def read_manifest(
    path: Path, *, after: str | None = None, limit: int = 1000
) -> tuple[list[ManifestEntry], str | None]:
    """One page of up to ``limit`` entries after the path ``after`` (a cursor: the last path
    of the previous page), and the next cursor (None on the last page).

    Streams from the start of the file and compares tree keys, so any path works as a
    cursor; cost grows with the cursor's position, not with the manifest's size beyond it."""
    limit = max(1, int(limit))
    key = tree_key(after) if after else None
    out: list[ManifestEntry] = []
    for line in _raw_lines(path, False):
        if key is not None:
            if tree_key(unescape(line.partition("\t")[0])) <= key:
                continue  # only the path is decoded for lines before the cursor
            key = None  # the manifest is sorted: everything from here on comes after
        if len(out) == limit:
            return out, out[-1].path
        out.append(parse_line(line))
    return out, None
