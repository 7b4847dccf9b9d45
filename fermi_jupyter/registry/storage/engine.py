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

from .creds import Switch
from .fileops import context_from
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


def _batches(walk: Walk, plan: Plan) -> Iterator[Batch]:
    seq = 0
    batch = Batch(seq)
    cursor = plan.cursor
    markers = plan.markers
    for folder, name in walk.files():
        line = None
        cost = 250 + 3 * (len(folder.rel) + len(name))
        if cursor is not None:
            rel = f"{folder.rel}/{name}" if folder.rel else name
            line, missing = cursor.take(rel)
            if line is not None:
                cost += len(line)
            if missing and markers:
                for m in missing:
                    batch.files.append((0, None, m))
                    batch.cost += 250 + len(m)
        if folder.id not in batch.folders:
            walk.hold(folder)
            batch.folders[folder.id] = folder
        batch.files.append((folder.id, name, line))
        batch.cost += cost
        if (
            len(batch.files) >= BATCH_FILES
            or len(batch.folders) >= BATCH_FOLDERS
            or batch.cost >= BATCH_COST
        ):
            yield batch
            seq += 1
            batch = Batch(seq)
    if cursor is not None and markers:
        for m in cursor.rest():
            batch.files.append((0, None, m))
            batch.cost += 250 + len(m)
            if batch.cost >= BATCH_COST:
                yield batch
                seq += 1
                batch = Batch(seq)
    if batch.files:
        yield batch


def _tiny(batch: Batch | None, plan: Plan) -> bool:
    """A tree in one batch of few files, none big: not worth starting processes."""
    if batch is None or plan.workers == 0:
        return True
    if plan.workers is not None or len(batch.files) > INLINE_FILES:
        return False
    with plan.switch.as_reader():
        for dir_id, name, _line in batch.files:
            if name is None:
                continue
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
        if second is None and _tiny(first, plan):
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
