"""The loop every operation shares: one walk of a tree, in the registry, cut into batches of
names that worker processes work on, with results consumed in tree order.

There is no counting pass: the walk runs while the workers hash, progress is reported (and
cancel checked) at least four times a second from the first moment, and the file total is
known as soon as the walk ends. A tree of a few hundred small files is done on the calling
thread instead (starting two interpreters would cost more than the work).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .batch import context_from
from .creds import Switch
from .hashing import SMALL
from .manifest import ManifestCursor
from .pool import WORKERS, Batch, Inline, Pool
from .progress import Tracker
from .walk import Folder, Skipped, Walk

BATCH_FILES = 500
BATCH_FOLDERS = 100  # two descriptors each at most: under SCM_MAX_FD (253)
BATCH_COST = 160_000  # bytes of messages a batch may need (the default socket buffer: 208 KB)
INLINE_FILES = int(os.environ.get("FERMI_STORAGE_INLINE_FILES", "300"))


@dataclass
class Plan:
    """What one operation needs from the loop."""

    op: str  # scan | snapshot | verify | restore
    root_fd: int
    switch: Switch
    tracker: Tracker
    deliver: Callable[[Batch, dict], None]
    skipped: Skipped = field(default_factory=Skipped)
    cursor: ManifestCursor | None = None  # the previous (snapshot) or expected manifest
    markers: bool = False  # pass manifest lines without a file on to the workers
    config: dict = field(default_factory=dict)
    init_fds: list[int] = field(default_factory=list)
    on_folder: Callable[[Folder, Folder | None], None] | None = None
    on_release: Callable[[Folder], None] | None = None
    workers: int | None = None  # None: WORKERS processes, or inline for a tiny tree


class _Batcher:
    """Cuts runs of names into batches: at most ``BATCH_FILES`` files, ``BATCH_FOLDERS``
    folders and ``BATCH_COST`` bytes of messages each."""

    def __init__(self, walk: Walk):
        self.walk = walk
        self.seq = 0
        self.batch = Batch(0)

    def add(self, folder: Folder, names: list[str], lines: list[str | None] | None) -> None:
        batch = self.batch
        if folder.id not in batch.folders:
            self.walk.hold(folder)
            batch.folders[folder.id] = folder
        batch.files.append((folder.id, names, lines))
        batch.count += len(names)
        # what the answer will carry: two lines a file (three when verifying) with the path
        batch.cost += 250 * len(names) + 3 * (len(folder.rel) * len(names) + sum(map(len, names)))
        if lines is not None:
            batch.cost += sum(len(x) for x in lines if x is not None)

    def mark(self, lines: list[str]) -> None:
        """Manifest lines with no file on disk (verify, restore)."""
        self.batch.files.append((0, None, lines))
        self.batch.cost += sum(250 + len(x) for x in lines)

    def room(self) -> int:
        return BATCH_FILES - self.batch.count

    def full(self) -> bool:
        b = self.batch
        return b.count >= BATCH_FILES or len(b.folders) >= BATCH_FOLDERS or b.cost >= BATCH_COST

    def take(self) -> Batch:
        done = self.batch
        self.seq += 1
        self.batch = Batch(self.seq)
        return done


def _batches(walk: Walk, plan: Plan) -> Iterator[Batch]:
    cut = _Batcher(walk)
    cursor = plan.cursor
    markers = plan.markers
    for folder, names in walk.runs():
        if cursor is None:  # the common case: whole slices of a folder's names, no per-file work
            i = 0
            each = 250 + 3 * (len(folder.rel) + 64)  # a generous guess of one file's share
            while i < len(names):
                fits = max(1, min(cut.room(), (BATCH_COST - cut.batch.cost) // each))
                part = names[i : i + fits]
                cut.add(folder, part, None)
                i += len(part)
                if cut.full():
                    yield cut.take()
            continue
        prefix = f"{folder.rel}/" if folder.rel else ""
        part: list[str] = []
        lines: list[str | None] = []
        for name in names:
            line, missing = cursor.take(prefix + name)
            if missing and markers:
                if part:
                    cut.add(folder, part, lines)
                    part, lines = [], []
                cut.mark(missing)
            part.append(name)
            lines.append(line)
            if cut.batch.count + len(part) >= BATCH_FILES:
                cut.add(folder, part, lines)
                part, lines = [], []
                if cut.full():
                    yield cut.take()
        if part:
            cut.add(folder, part, lines)
        if cut.full():
            yield cut.take()
    if cursor is not None and markers:
        rest: list[str] = []
        for line in cursor.rest():
            rest.append(line)
            if len(rest) >= BATCH_FILES:
                cut.mark(rest)
                rest = []
                yield cut.take()
        if rest:
            cut.mark(rest)
    if cut.batch.files:
        yield cut.take()


def _tiny(batch: Batch | None, plan: Plan) -> bool:
    """A tree in one batch of few files, none big: not worth starting processes."""
    if batch is None or plan.workers == 0:
        return True
    if plan.workers is not None or batch.count > INLINE_FILES:
        return False
    with plan.switch.as_reader():
        for dir_id, names, _lines in batch.files:
            for name in names or ():
                try:
                    st = os.stat(name, dir_fd=batch.folders[dir_id].fd, follow_symlinks=False)
                except OSError:
                    continue  # the real open will say what is wrong
                if stat.S_ISREG(st.st_mode) and st.st_size > SMALL:
                    return False
    return True


def run(plan: Plan) -> Walk:
    """Walk ``plan.root_fd`` and hand every file to the workers; returns the finished walk
    (its counts). Raises what the workers raise, Cancelled, or OSError from the walk."""
    walk = Walk(
        plan.root_fd,
        switch=plan.switch,
        tracker=plan.tracker,
        skipped=plan.skipped,
        on_folder=plan.on_folder,
        on_release=plan.on_release,
    )

    def deliver(batch: Batch, result: dict) -> None:
        plan.deliver(batch, result)
        if result["nskipped"]:
            plan.skipped.extend(result["skipped"], result["nskipped"])
        for folder in batch.folders.values():
            walk.release(folder)

    config = {**plan.config, "op": plan.op, "dev": walk.dev}
    if plan.switch.reader is not None:
        config["reader"] = plan.switch.reader.to_wire()
    executor: Pool | Inline | None = None
    try:
        batches = _batches(walk, plan)
        first = next(batches, None)
        second = next(batches, None) if first is not None else None
        if plan.workers == 0 or (second is None and _tiny(first, plan)):
            ctx = context_from(config, plan.init_fds, owns_fds=False, may_map=False)
            executor = Inline(ctx, deliver, plan.tracker.tick)
        else:
            n = plan.workers or WORKERS
            executor = Pool(n, config, plan.init_fds, deliver, plan.tracker.tick)
        for batch in (first, second):
            if batch is not None:
                executor.submit(batch)
        for batch in batches:
            executor.submit(batch)
        plan.tracker.set_totals(walk.files_seen, None)
        executor.drain()
    except BaseException:
        if executor is not None:
            executor.close()
            executor = None
        walk.close()
        raise
    executor.close()
    walk.close()
    return walk
