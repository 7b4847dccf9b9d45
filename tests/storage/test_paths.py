"""Every trick for leaving a volume, refused; honest paths resolved."""

import os

import pytest

from fermi_jupyter.registry.storage import PathRefused, StorageError, confine


@pytest.fixture
def tree(volume, tmp_path):
    (volume / "data" / "sub").mkdir(parents=True)
    (volume / "data" / "file.txt").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside, volume / "out")
    os.symlink(volume / "out", volume / "chain")  # a symlink to a symlink that leaves
    os.symlink("data/sub", volume / "inside")  # stays inside: fine
    os.symlink("../../..", volume / "data" / "up")
    return volume


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../",
        "a/../../x",
        "data/../..",
        "data/..",
        "/etc",
        "/",
        "out",
        "out/secret",
        "chain",
        "chain/secret",
        "data/up",
        "data/up/etc",
        "a\0b",
        "data\\..\\..",
        "x" * 5000,
    ],
)
def test_refused(tree, path):
    with pytest.raises(PathRefused) as e:
        confine(tree, path)
    assert str(e.value)  # a readable sentence


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        (".", ""),
        ("./", ""),
        ("data", "data"),
        ("data/", "data"),
        ("./data//sub", "data/sub"),
        ("inside", "data/sub"),
    ],
)
def test_resolved_inside(tree, path, expected):
    got = confine(tree, path)
    assert got == (tree / expected).resolve()


def test_literal_percent_names_are_just_names(tree):
    with pytest.raises(StorageError) as e:
        confine(tree, "%2e%2e/%2e%2e")
    assert e.value.reason == "not-found"
    (tree / "%2e%2e").mkdir()
    assert confine(tree, "%2e%2e").name == "%2e%2e"


def test_kinds_and_missing(tree):
    with pytest.raises(StorageError) as e:
        confine(tree, "data/file.txt", kind="dir")
    assert e.value.reason == "not-a-directory"
    with pytest.raises(StorageError) as e:
        confine(tree, "nope")
    assert e.value.reason == "not-found"
    assert confine(tree, "new/dir", must_exist=False) == tree.resolve() / "new" / "dir"
    with pytest.raises(PathRefused):
        confine(tree, "out/new", must_exist=False)
