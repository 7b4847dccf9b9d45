"""Storage-engine test helpers shared by tests/storage and tests/robustness."""

from __future__ import annotations

from pathlib import Path

from fermi_jupyter.registry.storage import StorageLayout


def make_layout(tmp_path: Path) -> StorageLayout:
    lay = StorageLayout(tmp_path / "root")
    lay.ensure()
    return lay


def make_volume(layout: StorageLayout, vol_id: str = "vol-test") -> Path:
    d = layout.volume_dir(vol_id)
    d.mkdir(parents=True)
    return d


def leftovers(layout: StorageLayout) -> list[str]:
    """What the store holds besides finished versions: temp files, trash, journals."""
    out = [p.name for p in layout.tmp_dir.iterdir() if p.name != "trash"]
    out += [p.name for p in layout.trash_dir.iterdir()]
    return sorted(out)


def settled(layout: StorageLayout, timeout: float = 30.0) -> StorageLayout:
    """Wait until the trash is empty: a failed snapshot gives its space back in the
    background after its first fraction of a second."""
    import time

    deadline = time.monotonic() + timeout
    while any(layout.trash_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return layout
