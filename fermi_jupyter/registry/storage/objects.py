"""The content-addressed object store: each distinct content of at least ``OBJECT_MIN`` bytes
once, read-only, shared by every version of every dataset through hard links.

Smaller content is not an object: naming it in the store would cost a second directory entry
per file, which is most of a small file's cost. A version holds its own copy of a small file,
linked instead to the same file in the version before it when unchanged (as ``rsync
--link-dest`` does) and to an identical file of the same batch (see :meth:`Store.stage`).

``objects/<d[:2]>/<digest>`` is an object; ``<digest>.d/<k>`` (k = 1, 2, …) are its
replicas, made when the object reached its filesystem's hard-link limit (``EMLINK``: ext4
allows 65,000 links per inode; the limit is whatever the filesystem enforces, never a number
assumed here) — identical content on another inode, linked from then on. Empty files are
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

from .fsafe import CREATE_FLAGS, DIR_FLAGS

OBJECT_MODE = 0o444
# content under this many bytes stays in its version (see above); RegistryApp.storage_object_min
OBJECT_MIN = 64 << 10
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
    object_min: int = OBJECT_MIN  # smaller content is not named in the store
    previous: int = -1  # descriptor of the previous version's folder, -1 for none
    full: set[str] = field(default_factory=set)  # objects found full during this operation
    replicas: dict[str, list[str]] = field(default_factory=dict)  # digest → replicas to try
    pending: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # see stage()
    kept: dict[str, tuple[int, str]] = field(default_factory=dict)  # see stage()
    flushed_bytes: int = 0  # new bytes stored ahead of a flush()
    _tmp: int = 0

    # -- linking an existing object -------------------------------------------------------
    def _linkat(
        self, name: str, dst: int, to: str, src: int | None = None, reserve: int = 0
    ) -> None:
        src = self.objects if src is None else src
        if self.link_limit is not None:
            st = os.stat(name, dir_fd=src)
            if st.st_nlink + reserve >= self.link_limit:
                raise OSError(errno.EMLINK, "Too many links (test limit)", name)
        os.link(name, to, src_dir_fd=src, dst_dir_fd=dst)

    def link(self, digest: str, dst: int, to: str) -> bool:
        """Link the stored content ``digest`` into ``dst`` as ``to``; False if it is not
        stored (any more)."""
        name = object_name(digest)
        if digest not in self.full:
            try:
                self._linkat(name, dst, to)
                return True
            except FileNotFoundError:
                return False
            except OSError as e:
                if e.errno != errno.EMLINK:
                    raise
                self.full.add(digest)  # the link limit is what the filesystem says it is
        return self._link_replica(digest, name, dst, to)

    def link_previous(self, rel: str, dst: int, to: str) -> bool:
        """Link the previous version's file ``rel`` into ``dst`` as ``to``; False if there
        is none (or it is gone, or has no link left). That version is the registry's own
        and immutable, so its file holds what its manifest says."""
        if self.previous < 0:
            return False
        try:
            self._linkat(rel, dst, to, src=self.previous)
            return True
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as e:
            # full, or made by another uid (protected_hardlinks): the caller copies it
            if e.errno not in (errno.EMLINK, errno.EPERM, errno.EACCES):
                raise
            return False

    def _link_replica(self, digest: str, name: str, dst: int, to: str) -> bool:
        folder = f"{name}.d"
        for _attempt in range(64):
            names = self.replicas.get(digest)
            if names is None:
                names = self.replicas[digest] = self._list(folder)
            while names:
                try:
                    self._linkat(f"{folder}/{names[0]}", dst, to)
                    return True
                except FileNotFoundError:
                    names.pop(0)  # freed meanwhile
                except OSError as e:
                    if e.errno != errno.EMLINK:
                        raise
                    names.pop(0)  # full too
            made = self._new_replica(digest, name, folder)
            if made is None:
                return False  # the object itself is gone: the caller stores the content
            self.replicas[digest] = [made]
        raise OSError(errno.EMLINK, "Too many links, and no replica could be made", name)

    def _list(self, folder: str) -> list[str]:
        try:
            fd = os.open(folder, DIR_FLAGS, dir_fd=self.objects)
        except FileNotFoundError:
            return []
        try:
            return sorted((n for n in os.listdir(fd) if n.isdigit()), key=int)
        finally:
            os.close(fd)

    def _new_replica(self, digest: str, name: str, folder: str) -> str | None:
        """Make the next replica of ``digest`` (a copy of the object on a fresh inode) in
        ``<digest>.d/``; its name. Written unnamed and named once complete, so nobody links
        half a copy; journaled first, like a new object."""
        try:
            src = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.objects)
        except FileNotFoundError:
            return None
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o755, dir_fd=self.objects)
            existing = self._list(folder)
            k = str(int(existing[-1]) + 1 if existing else 1)
            out, tmp_name = self._unnamed(folder)
            try:
                copy_all(src, out)
                st = os.fstat(src)
                os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
                self.note(f"{digest}.d/{k}")
                # (someone may have made replica k first: then theirs, complete, is used)
                with contextlib.suppress(FileExistsError):
                    self._name_unnamed(out, tmp_name, f"{folder}/{k}")
            finally:
                os.close(out)
        finally:
            os.close(src)
        return k

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

    def stage(self, digest: str, dst: int, name: str, size: int) -> None:
        """``dst/name`` is complete, new content. At least ``object_min`` bytes: it becomes
        object ``digest`` at the next :meth:`flush` (the end of the batch). Smaller: it is
        counted as newly stored and stays the version's own. Either way, until the flush a
        second copy of that content in the batch is linked to it."""
        if size < self.object_min:
            if digest not in self.kept:
                self.kept[digest] = (dst, name)
                self.flushed_bytes += size
            return
        self.pending.setdefault(digest, (dst, name, size))

    def link_pending(self, digest: str, dst: int, to: str) -> bool:
        kept = self.kept.get(digest)
        if kept is not None:
            try:
                self._linkat(kept[1], dst, to, src=kept[0])
                return True
            except OSError as e:
                if e.errno != errno.EMLINK:
                    raise
            del self.kept[digest]  # full: the caller stores another copy, linked from then on
            return False
        staged = self.pending.get(digest)
        if staged is None:
            return False
        try:
            # one link stays free for the store's name, given at the flush
            self._linkat(staged[1], dst, to, src=staged[0], reserve=1)
            return True
        except OSError as e:
            if e.errno != errno.EMLINK:
                raise
        # full before it was even stored: store it now, the caller goes on to its replicas
        del self.pending[digest]
        if self.journal >= 0:
            os.write(self.journal, f"{digest}\n".encode())
        if self.publish(digest, staged[0], staged[1], journaled=True):
            self.flushed_bytes += staged[2]
        return False

    def flush(self) -> int:
        """Journal the batch's new objects (one write), then name them in the store; the
        bytes newly stored. Journaled before they exist, so a snapshot that fails or dies
        at any moment gives back exactly what it added (gc.py)."""
        self.kept.clear()  # its folders' descriptors are the batch's
        if not self.pending:
            new, self.flushed_bytes = self.flushed_bytes, 0
            return new
        if self.journal >= 0:
            os.write(self.journal, "".join(f"{d}\n" for d in self.pending).encode())
        new, self.flushed_bytes = self.flushed_bytes, 0
        pending, self.pending = self.pending, {}
        for digest, (dst, name, size) in pending.items():
            if self.publish(digest, dst, name, journaled=True):
                new += size
        return new

    def publish(self, digest: str, dst: int, name: str, *, journaled: bool = False) -> bool:
        """The complete file ``dst/name`` becomes object ``digest``. True if it did; False if
        that content was stored by someone else meanwhile — the version then links theirs."""
        obj = object_name(digest)
        if not journaled:
            self.note(digest)
        for _attempt in range(5):
            try:
                os.link(name, obj, src_dir_fd=dst, dst_dir_fd=self.objects)
                return True
            except FileExistsError:
                pass
            except OSError as e:
                if e.errno == errno.EMLINK:  # full already: it stays the version's own copy
                    return False
                raise
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


def copy_range(src: int, out: int, length: int) -> int:
    """Copy up to ``length`` bytes from ``src`` to ``out`` at their offsets, in the kernel
    where it can (``copy_file_range``); bytes copied, 0 at the end of ``src``."""
    done = 0
    try:
        while done < length:
            n = os.copy_file_range(src, out, length - done)
            if n == 0:
                return done
            done += n
        return done
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    while done < length:
        chunk = os.read(src, min(1 << 20, length - done))
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view) :]
        done += len(chunk)
    return done


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
