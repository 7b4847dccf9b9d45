"""Manifests: one line per file (path, size, mode, mtime, BLAKE3), streamed, never all in memory.

File format (docs/reference/manifest.md)::

    #fermi-manifest v1
    <path>\t<size>\t<mode, octal>\t<mtime_ns>\t<blake3 hex>

Paths escape ``\\``, tab and newline. Entries are in *tree order*: sorted by the tuple of
their path components, i.e. a depth-first walk with each directory's names sorted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from blake3 import blake3

from .errors import StorageError

HEADER = "#fermi-manifest v1\n"
_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n"})
_UNESC = {"\\": "\\", "t": "\t", "n": "\n"}


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    mode: int
    mtime_ns: int
    digest: str

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))

    def digest_line(self, mode: int | None = None) -> bytes:
        m = self.mode if mode is None else mode
        return f"{self.path}\0{self.size}\0{m:o}\0{self.digest}\n".encode(
            "utf-8", "surrogateescape"
        )


def _unescape(s: str) -> str:
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


def format_line(e: ManifestEntry) -> str:
    return f"{e.path.translate(_ESC)}\t{e.size}\t{e.mode:o}\t{e.mtime_ns}\t{e.digest}\n"


def parse_line(line: str) -> ManifestEntry:
    try:
        path, size, mode, mtime, digest = line.rstrip("\n").split("\t")
        return ManifestEntry(_unescape(path), int(size), int(mode, 8), int(mtime), digest)
    except ValueError:
        raise StorageError(f"corrupt manifest line: {line[:80]!r}", "corrupt-manifest") from None


class VersionDigest:
    """The whole-version digest, fed entry by entry in tree order."""

    def __init__(self) -> None:
        self._h = blake3()

    def add(self, e: ManifestEntry, mode: int | None = None) -> None:
        self._h.update(e.digest_line(mode))

    def hexdigest(self) -> str:
        return "blake3:" + self._h.hexdigest()


def version_digest(entries: Iterable[ManifestEntry]) -> str:
    d = VersionDigest()
    for e in entries:
        d.add(e)
    return d.hexdigest()


class ManifestWriter:
    """Writes to ``<path>.tmp`` and renames on ``commit``, so a manifest is whole or absent."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.tmp, "w", encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
        self._f.write(HEADER)
        self.digest = VersionDigest()
        self.files = 0
        self.bytes = 0

    def add(self, e: ManifestEntry) -> None:
        self._f.write(format_line(e))
        self.digest.add(e)
        self.files += 1
        self.bytes += e.size

    def commit(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        self.tmp.unlink(missing_ok=True)


def iter_manifest(path: Path) -> Iterator[ManifestEntry]:
    try:
        f = open(path, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    except FileNotFoundError:
        raise StorageError("this version has no manifest on disk", "not-found") from None
    with f:
        if f.readline() != HEADER:
            raise StorageError(f"{path.name} is not a fermi manifest", "corrupt-manifest")
        for line in f:
            yield parse_line(line)


def read_manifest(
    path: Path, *, after: str | None = None, limit: int = 1000
) -> tuple[list[ManifestEntry], str | None]:
    """One page of entries after the path ``after`` (a cursor), and the next cursor."""
    key = tuple(after.split("/")) if after else None
    out: list[ManifestEntry] = []
    for e in iter_manifest(path):
        if key is not None and e.key <= key:
            continue
        if len(out) == limit:
            return out, out[-1].path
        out.append(e)
    return out, None
