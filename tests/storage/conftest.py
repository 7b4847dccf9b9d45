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
