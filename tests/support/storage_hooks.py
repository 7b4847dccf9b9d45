"""Driving the storage engine's pause points (fermi_jupyter/registry/storage/hooks.py) from a
test: arm a point, wait until a process reaches it, act, let it go on."""

from __future__ import annotations

import json
import time
from pathlib import Path


class Hooks:
    def __init__(self, folder: Path):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)

    def arm(self, point: str) -> None:
        for suffix in (".reached", ".go"):
            (self.dir / (point + suffix)).unlink(missing_ok=True)
        (self.dir / (point + ".arm")).touch()

    def reached(self, point: str, timeout: float = 60) -> dict:
        """Wait for a process to stop at ``point``; what it said it was about to do."""
        path = self.dir / (point + ".reached")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = path.read_text()
                if text:
                    return json.loads(text)
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.01)
        raise AssertionError(f"no process reached the pause point {point!r} in {timeout}s")

    def go(self, point: str) -> None:
        (self.dir / (point + ".go")).touch()

    def disarm(self) -> None:
        for p in self.dir.glob("*"):
            p.unlink(missing_ok=True)
