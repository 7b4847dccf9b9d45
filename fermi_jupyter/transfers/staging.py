"""The staging folder: downloads land in a hidden folder inside the volume and move into place
only when complete, so a failed or cancelled attempt never leaves a half tree that looks done.

* target missing (or an empty folder): stage in ``<parent>/.<name>.fermi-<tag>.partial`` and
  rename it to the target in one step;
* target holding files: stage in ``<target>/.fermi-<tag>.partial`` and move each entry over the
  old one at the end (renames only, no copying); *sync* then deletes what the source lacks.

Everything at the end is done relative to directory descriptors opened with ``O_NOFOLLOW``: a
symlink swapped into the target meanwhile is replaced, never followed. Symlinks a tool created
(a Git repository may hold them) that lead outside the target are removed with a warning.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

PARTIAL = ".partial"
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def is_staging_name(name: str) -> bool:
    return name.startswith(".") and ".fermi-" in name and name.endswith(PARTIAL)


def safe_relpath(rel: str) -> str | None:
    """A remote name (S3 key below the prefix, Hub file path) as a relative path, or None when it
    would leave the target or cannot be a file name (``..``, ``.``, empty parts, NUL)."""
    if not rel or "\0" in rel or rel.startswith("/") or len(rel) > 4096:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") or len(p.encode()) > 255 for p in parts):
        return None
    if is_staging_name(parts[0]):
        return None
    return rel


def _rmtree_at(parent_fd: int, name: str) -> None:
    """Remove ``name`` (file, link or tree) inside ``parent_fd`` without following links."""
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=parent_fd)
        return
    fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    try:
        for entry in os.scandir(fd):
            _rmtree_at(fd, entry.name)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)


class Staging:
    def __init__(self, target: Path, tag: str):
        self.target = Path(target)
        self.tag = tag
        self.merge = self._has_content(self.target)
        if self.merge:
            self.path = self.target / f".fermi-{tag}{PARTIAL}"
        else:
            self.path = self.target.parent / f".{self.target.name}.fermi-{tag}{PARTIAL}"
        self.warnings: list[str] = []

    @staticmethod
    def _has_content(target: Path) -> bool:
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return False
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "the target is not a folder", str(target))
        return any(not is_staging_name(n) for n in os.listdir(target))

    def prepare(self) -> Path:
        """A fresh, private staging folder (a leftover of an earlier attempt is removed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.abort()
        os.mkdir(self.path, 0o700)
        return self.path

    def abort(self) -> None:
        parent_fd = os.open(self.path.parent, DIR_FLAGS)
        try:
            _rmtree_at(parent_fd, self.path.name)
        finally:
            os.close(parent_fd)

    def remove_escaping_links(self) -> None:
        """Drop symlinks whose target is absolute or climbs out of the target folder."""
        root = str(self.path)
        for dirpath, dirnames, filenames, dirfd in os.fwalk(root):
            rel_dir = os.path.relpath(dirpath, root)
            for name in dirnames + filenames:
                try:
                    st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not stat.S_ISLNK(st.st_mode):
                    continue
                link = os.readlink(name, dir_fd=dirfd)
                resolved = os.path.normpath(os.path.join(rel_dir, link))
                if os.path.isabs(link) or resolved == ".." or resolved.startswith("../"):
                    os.unlink(name, dir_fd=dirfd)
                    shown = os.path.normpath(os.path.join(rel_dir, name))
                    self.warnings.append(
                        f"removed symlink {shown!r} → {link!r}: it leads outside the target"
                    )

    def commit(
        self, keep: set[str] | None = None, on_delete: Callable[[str], None] | None = None
    ) -> None:
        """Move the staged tree into place. ``keep``: with sync, the relative file paths the
        source has; everything else in the target is deleted."""
        if not self.merge:
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(self.target)  # an empty folder waiting for us
            # private while it was being written; in place, a folder like any other (0700 kept
            # the people sharing a team volume out of what was imported)
            os.chmod(self.path, 0o777 & ~_umask())
            os.rename(self.path, self.target)
            return
        tfd = os.open(self.target, DIR_FLAGS)
        try:
            sfd = os.open(self.path.name, DIR_FLAGS, dir_fd=tfd)
            try:
                _merge(sfd, tfd)
            finally:
                os.close(sfd)
            os.rmdir(self.path.name, dir_fd=tfd)
            if keep is not None:
                _prune(tfd, "", keep, on_delete)
        finally:
            os.close(tfd)


def _umask() -> int:
    mask = os.umask(0o022)  # (the transfer program is one thread: reading it this way is safe)
    os.umask(mask)
    return mask


def _merge(src_fd: int, dst_fd: int) -> None:
    for entry in list(os.scandir(src_fd)):
        name = entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        try:
            dst = os.stat(name, dir_fd=dst_fd, follow_symlinks=False)
        except FileNotFoundError:
            dst = None
        if is_dir and dst is not None and stat.S_ISDIR(dst.st_mode):
            s = os.open(name, DIR_FLAGS, dir_fd=src_fd)
            d = os.open(name, DIR_FLAGS, dir_fd=dst_fd)
            try:
                _merge(s, d)
            finally:
                os.close(s)
                os.close(d)
            os.rmdir(name, dir_fd=src_fd)
            continue
        if dst is not None and (is_dir or stat.S_ISDIR(dst.st_mode)):
            _rmtree_at(dst_fd, name)  # a folder replaced by a file, or the other way round
        os.rename(name, name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)


def _prune(fd: int, rel: str, keep: set[str], on_delete: Callable[[str], None] | None) -> bool:
    """Delete what ``keep`` lacks below ``fd``. Returns whether anything is left."""
    left = False
    for entry in list(os.scandir(fd)):
        path = f"{rel}{entry.name}"
        if not rel and is_staging_name(entry.name):
            left = True
            continue
        if entry.is_dir(follow_symlinks=False):
            sub = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
            try:
                kept = _prune(sub, path + "/", keep, on_delete)
            finally:
                os.close(sub)
            if kept:
                left = True
            else:
                os.rmdir(entry.name, dir_fd=fd)
        elif path in keep:
            left = True
        else:
            os.unlink(entry.name, dir_fd=fd)
            if on_delete:
                on_delete(path)
    return left


class SafeTree:
    """Creates files below a root folder through directory descriptors, never following a
    symlink, so nothing lands outside the root whatever appears inside it meanwhile."""

    def __init__(self, root: Path):
        self.root_fd = os.open(root, DIR_FLAGS)
        self._dirs: dict[str, int] = {"": self.root_fd}

    def _dir(self, rel_dir: str) -> int:
        fd = self._dirs.get(rel_dir)
        if fd is not None:
            return fd
        parent, _, name = rel_dir.rpartition("/")
        pfd = self._dir(parent)
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=pfd)
        fd = os.open(name, DIR_FLAGS, dir_fd=pfd)
        if len(self._dirs) > 512:  # bound the open descriptors
            for key in [k for k in self._dirs if k][:256]:
                os.close(self._dirs.pop(key))
        self._dirs[rel_dir] = fd
        return fd

    def open(self, rel: str, size: int | None = None) -> int:
        """An ``O_WRONLY`` descriptor for ``rel`` (a :func:`safe_relpath`), truncated."""
        parent, _, name = rel.rpartition("/")
        dfd = self._dir(parent)
        fd = os.open(
            name,
            os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o644,
            dir_fd=dfd,
        )
        if size:
            with contextlib.suppress(OSError):
                os.posix_fallocate(fd, 0, size)
        return fd

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()


def tree_size(root: Path) -> tuple[int, int]:
    """Files and bytes below ``root`` (no links followed): progress for tools that report none."""
    files = size = 0
    for _dirpath, _dirnames, filenames, dirfd in os.fwalk(root):
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                if stat.S_ISREG(st.st_mode):
                    files += 1
                    size += st.st_size
    return files, size


def remove_stale(parent: Path, tag: str) -> None:
    """Remove staging folders named for ``tag`` under ``parent`` and ``parent``'s parent."""
    for folder in (parent, parent.parent):
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                if is_staging_name(name) and f".fermi-{tag}{PARTIAL}" in name:
                    shutil.rmtree(folder / name, ignore_errors=True)
