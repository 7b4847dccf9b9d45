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
