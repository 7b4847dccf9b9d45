import pytest

from ..support.storage import leftovers, make_layout, make_volume

__all__ = ["leftovers"]


@pytest.fixture
def layout(tmp_path):
    return make_layout(tmp_path)


@pytest.fixture
def volume(layout):
    return make_volume(layout)
