"""Copy a version back into a volume as ordinary, writable files."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import StorageError, readable
from .gc import rmtree_force
from .hashing import new_hasher, open_source, stream
from .manifest import ManifestEntry, VersionDigest, iter_manifest
from .pipeline import Pipeline
from .progress import ProgressFn, Tracker
from .results import Result
from .walk import list_dirs

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _owner_for(parent: Path) -> tuple[int, int] | None:
    """Files restored by a root registry into someone's volume get the owner of the folder
    they land in, so the user can change them; None when nothing needs changing."""
    if os.geteuid() != 0:
        return None
    st = os.stat(parent)
    return None if (st.st_uid, st.st_gid) == (0, 0) else (st.st_uid, st.st_gid)


def restore(
    version_tree: Path,
    manifest_path: Path,
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Copy the version at ``version_tree`` to ``dest`` as plain files (not hard links), with
    the modes and mtimes of its manifest, every file checked against its digest on the way.

    ``dest`` must not exist or be an empty folder (else reason "exists"). The copy is built in
    a sibling ``.<name>.fermi-partial`` and renamed into place: all of it or nothing."""
    dest = Path(dest)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise StorageError(f"{dest.name!r} already exists and is not empty", "exists")
    tree = str(version_tree)
    tracker = Tracker(progress, cancel)
    tracker.report()
    files_total = bytes_total = 0
    for e in iter_manifest(manifest_path):
        files_total, bytes_total = files_total + 1, bytes_total + e.size
    tracker.set_totals(files_total, bytes_total)
    partial = dest.parent / f".{dest.name}.fermi-partial"
    part = str(partial)
    dest.parent.mkdir(parents=True, exist_ok=True)
    owner = _owner_for(dest.parent)
    rmtree_force(partial)
    partial.mkdir()
    version = VersionDigest()

    def work(e: ManifestEntry) -> int:
        src = open_source(f"{tree}/{e.path}", e.path)
        try:
            out = os.open(f"{part}/{e.path}", _CREATE, 0o600)
            try:
                h = new_hasher(e.size)
                n = stream(src, h, out, None, cancel)
                os.fchmod(out, e.mode)
                if owner is not None:
                    os.fchown(out, *owner)
                os.utime(out, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(out)
        finally:
            os.close(src)
        if h.hexdigest() != e.digest or n != e.size:
            raise StorageError(
                f"{e.path} does not match the version's manifest: verify this version",
                "corrupt",
            )
        return n

    def entries() -> Iterator[ManifestEntry]:
        yield from iter_manifest(manifest_path)

    try:
        for rel in list_dirs(tree):  # parents first; empty folders come back too
            os.mkdir(f"{part}/{rel}")
            if owner is not None:
                os.chown(f"{part}/{rel}", *owner)
        with Pipeline(work, size_of=lambda e: e.size) as pipeline:
            for e, n in pipeline.run(entries()):
                version.add(e)
                tracker.add(1, n)
        tracker.check()
        if owner is not None:
            os.chown(part, *owner)
        if dest.exists():
            dest.rmdir()  # the empty folder the copy replaces
        os.rename(partial, dest)
    except FileNotFoundError as e:
        rmtree_force(partial)
        raise StorageError(
            f"the version's files are incomplete ({os.path.basename(e.filename or '')} is "
            "missing): verify this version",
            "corrupt",
        ) from None
    except BaseException as e:
        rmtree_force(partial)
        if isinstance(e, OSError):
            raise readable(e, str(dest.parent)) from e
        raise
    tracker.report()
    return Result(
        digest=version.hexdigest(),
        files=tracker.files,
        bytes=tracker.bytes,
        new_bytes=tracker.bytes,
        warnings=[],
        manifest_path=Path(manifest_path),
    )
