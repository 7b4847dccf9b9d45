import pytest

from fermi_jupyter.registry.storage import StorageLayout


@pytest.fixture
def layout(tmp_path):
    lay = StorageLayout(tmp_path / "root")
    lay.ensure()
    return lay


@pytest.fixture
def volume(layout):
    d = layout.volume_dir("vol-test")
    d.mkdir(parents=True)
    return d


def leftovers(layout) -> list[str]:
    """What the store holds besides finished versions: temp files, trash, journals."""
    out = [p.name for p in layout.tmp_dir.iterdir() if p.name != "trash"]
    out += [p.name for p in layout.trash_dir.iterdir()]
    return sorted(out)
