"""Will a snapshot fit? A quick estimate before a registration starts.

A snapshot stores every content the store does not hold yet. What it will need is at most
the source's size, less what de-duplication is known to save (the previous version of the
same source: unchanged files are linked, not copied). The source is measured by a walk that
stops after a fraction of a second; a walk cut short gives a lower bound, which is still
enough to say "this cannot fit"."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .fsafe import DIR_FLAGS, open_tree


def human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


PER_FILE = 160  # manifest line and directory entry, roughly
BUDGET = 0.25  # seconds of walking


@dataclass
class SpaceEstimate:
    free: int  # bytes available in the store
    source: int  # bytes of the source (a lower bound unless ``complete``)
    files: int
    complete: bool
    savings: int  # bytes de-duplication is known to save

    @property
    def needed(self) -> int:
        return max(0, self.source - self.savings) + PER_FILE * self.files

    @property
    def fits(self) -> bool:
        return self.needed <= self.free

    def message(self) -> str:
        at_least = "" if self.complete else "at least "
        return (
            f"this registration needs {at_least}{human(self.needed)} of new space "
            f"({human(self.source)} in {self.files:,} files"
            + (f", less {human(self.savings)} already stored" if self.savings else "")
            + f") but the dataset store has {human(self.free)} free; free some space or "
            'register a smaller folder (or send "ignore_space_warning": true to try anyway)'
        )


def estimate_space(
    store_root: Path, src: Path, *, savings: int = 0, budget: float = BUDGET
) -> SpaceEstimate:
    """Measure ``src`` (a resolved path) for at most ``budget`` seconds against the free
    space of the filesystem holding ``store_root``."""
    st = os.statvfs(store_root)
    free = st.f_bavail * st.f_frsize
    deadline = time.monotonic() + budget
    total = files = 0
    complete = True
    stack = [open_tree(src)]
    try:
        while stack:
            if time.monotonic() > deadline:
                complete = False
                break
            fd = stack.pop()
            try:
                with os.scandir(fd) as it:
                    for e in it:
                        try:
                            if e.is_file(follow_symlinks=False):
                                total += e.stat(follow_symlinks=False).st_size
                                files += 1
                            elif e.is_dir(follow_symlinks=False):
                                stack.append(os.open(e.name, DIR_FLAGS, dir_fd=fd))
                        except OSError:
                            continue
            except OSError:
                pass
            finally:
                os.close(fd)
    finally:
        for fd in stack:
            os.close(fd)
    return SpaceEstimate(free, total, files, complete, min(savings, total))
