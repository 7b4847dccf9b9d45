"""The content-addressed object store: each distinct content once, read-only, shared by every
version of every dataset through hard links.

``objects/<d[:2]>/<digest>`` is an object; ``<digest>.r<k>`` (k = 1, 2, …) are its replicas,
made when the object reached its filesystem's hard-link limit (``EMLINK``: ext4 allows 65,000
links per inode) — identical content on another inode, linked from then on. Empty files are
never objects: each version gets its own empty file.

A new content is written straight into the version being built and then linked as the
object, so an object's name appears only once its content is complete and an object is never
without a link while a snapshot uses it. Before that link, its name goes into the snapshot's
journal (``tmp/<ds>-<n>.objects``): a snapshot that fails, is cancelled or dies gives back
exactly the objects it added (see gc.py), and only those that no version links.

Everything here runs in a worker process, relative to descriptors: ``objects`` is the
store's folder, ``dst`` a folder of the version being built.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass, field

from .fsafe import CREATE_FLAGS

OBJECT_MODE = 0o444
EMPTY_DIGEST = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
_TMPFILE = getattr(os, "O_TMPFILE", 0)


def object_name(digest: str) -> str:
    """The object's path relative to ``objects/``."""
    return f"{digest[:2]}/{digest}"


@dataclass
class Store:
    """One worker's handle on the object store."""

    objects: int  # descriptor of objects/
    journal: int  # descriptor of the snapshot's journal (O_APPEND), -1 for none
    link_limit: int | None = None  # tests only: behave as if EMLINK came at this many links
    replicas: dict[str, int] = field(default_factory=dict)  # digest → replica known to have room
    _tmp: int = 0

    # -- linking an existing object -------------------------------------------------------
    def _linkat(self, name: str, dst: int, to: str) -> None:
        if self.link_limit is not None:
            st = os.stat(name, dir_fd=self.objects)
            if st.st_nlink >= self.link_limit:
                raise OSError(errno.EMLINK, "Too many links (test limit)", name)
        os.link(name, to, src_dir_fd=self.objects, dst_dir_fd=dst)

    def link(self, digest: str, dst: int, to: str) -> bool:
        """Link the stored content ``digest`` into ``dst`` as ``to``; False if it is not
        stored (any more)."""
        k = self.replicas.get(digest, 0)
        name = object_name(digest)
        while True:
            candidate = name if k == 0 else f"{name}.r{k}"
            try:
                self._linkat(candidate, dst, to)
                if k:
                    self.replicas[digest] = k
                return True
            except FileNotFoundError:
                if k == 0:
                    return False
                return self._new_replica(digest, k, dst, to)
            except OSError as e:
                if e.errno != errno.EMLINK:
                    raise
                k += 1  # this inode is full: the next replica

    def _new_replica(self, digest: str, k: int, dst: int, to: str) -> bool:
        """Make replica ``k`` of ``digest`` (a copy of the object on a fresh inode), then
        link it. Written unnamed and named once complete, so no one links half a copy."""
        name = object_name(digest)
        try:
            src = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.objects)
        except FileNotFoundError:
            return False
        try:
            out, tmp_name = self._unnamed(os.path.dirname(name))
            try:
                copy_all(src, out)
                os.fchmod(out, OBJECT_MODE)
                st = os.fstat(src)
                os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
                self.note(f"{digest}.r{k}")
                # (someone else may have made replica k first: then theirs is used)
                with contextlib.suppress(FileExistsError):
                    self._name_unnamed(out, tmp_name, f"{name}.r{k}")
            finally:
                os.close(out)
        finally:
            os.close(src)
        self.replicas[digest] = k
        return self.link(digest, dst, to)

    def _unnamed(self, fanout: str) -> tuple[int, str | None]:
        if _TMPFILE:
            try:
                return os.open(
                    fanout, os.O_WRONLY | _TMPFILE, OBJECT_MODE, dir_fd=self.objects
                ), None
            except OSError:
                pass
        self._tmp += 1
        tmp = f"{fanout}/.tmp-{os.getpid()}-{self._tmp}"
        return os.open(tmp, CREATE_FLAGS, OBJECT_MODE, dir_fd=self.objects), tmp

    def _name_unnamed(self, fd: int, tmp_name: str | None, name: str) -> None:
        if tmp_name is None:
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=self.objects, follow_symlinks=True)
            return
        try:
            os.link(tmp_name, name, src_dir_fd=self.objects, dst_dir_fd=self.objects)
        finally:
            os.unlink(tmp_name, dir_fd=self.objects)

    # -- storing new content ----------------------------------------------------------------
    def note(self, name: str) -> None:
        """Journal an object (or replica) this snapshot is about to add."""
        if self.journal >= 0:
            os.write(self.journal, f"{name}\n".encode())

    def publish(self, digest: str, dst: int, name: str) -> bool:
        """The complete file ``dst/name`` becomes object ``digest``. True if it did; False if
        that content was stored by someone else meanwhile — the version then links theirs."""
        obj = object_name(digest)
        self.note(digest)
        for _attempt in range(5):
            try:
                os.link(name, obj, src_dir_fd=dst, dst_dir_fd=self.objects)
                return True
            except FileExistsError:
                pass
            # theirs replaces ours, through a temporary name: never a moment without the file
            self._tmp += 1
            tmp = f".fermi-link-{os.getpid()}-{self._tmp}"
            try:
                if not self.link(digest, dst, tmp):
                    continue  # theirs vanished in between: try to publish ours again
            except OSError:
                return False  # theirs is unusable (full, unreadable): keep our copy
            os.rename(tmp, name, src_dir_fd=dst, dst_dir_fd=dst)
            return False
        return False

    def empty(self, dst: int, name: str, mtime_ns: int) -> None:
        """An empty file: created, never linked (there is no empty object)."""
        os.mknod(name, stat.S_IFREG | OBJECT_MODE, dir_fd=dst)  # one call: no open, no close
        os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=dst, follow_symlinks=False)


def copy_all(src: int, out: int) -> int:
    """Copy everything from ``src`` to ``out`` in the kernel where it can; bytes copied."""
    total = 0
    try:
        while True:
            n = os.copy_file_range(src, out, 1 << 30)
            if n == 0:
                return total
            total += n
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    while True:
        chunk = os.read(src, 1 << 20)
        if not chunk:
            return total
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view) :]
        total += len(chunk)
