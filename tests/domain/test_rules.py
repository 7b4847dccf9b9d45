"""Pure rules: visibility, names, references, sizes, cursors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fermi_jupyter.domain.identity import Identity
from fermi_jupyter.domain.ids import check_name, new_id
from fermi_jupyter.domain.refs import check_alias, parse_ref
from fermi_jupyter.domain.visibility import can_read, can_use_volume, can_write
from fermi_jupyter.registry.errors import BadRequest
from fermi_jupyter.registry.pagination import decode_cursor, encode_cursor, parse_limit
from fermi_jupyter.registry.units import parse_size

ALICE = Identity("alice", frozenset({"vision"}))
BOB = Identity("bob", frozenset({"vision"}))
CAROL = Identity("carol", frozenset({"audio"}))
ROOT = Identity("root", admin=True)
SERVICE = Identity("some-service", kind="service")


def obj(vis, team=None, owner="alice"):
    return SimpleNamespace(owner=owner, team=team, visibility=vis)


@pytest.mark.parametrize(
    ("who", "vis", "team", "expected"),
    [
        (ALICE, "private", None, True),
        (BOB, "private", None, False),
        (ROOT, "private", None, True),
        (BOB, "team", "vision", True),
        (CAROL, "team", "vision", False),
        (BOB, "team", None, False),
        (CAROL, "org", None, True),
        (CAROL, "public", None, True),
        (SERVICE, "org", None, False),
        (SERVICE, "private", None, False),
    ],
)
def test_can_read(who, vis, team, expected):
    assert can_read(who, obj(vis, team)) is expected


def test_only_owner_and_admin_write_and_teams_share_volumes():
    assert can_write(ALICE, obj("public")) and can_write(ROOT, obj("private"))
    assert not can_write(BOB, obj("team", "vision"))
    assert can_use_volume(BOB, obj("private", "vision"))
    assert not can_use_volume(CAROL, obj("private", "vision"))


@pytest.mark.parametrize("name", ["ImageNet-2024", "中文 语音", "a", "x.y_z-1"])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "  ", "a/b", "../x", "x" * 200, None, 3, "-lead"])
def test_bad_names(name):
    with pytest.raises(ValueError):
        check_name(name)


def test_ids_are_prefixed_and_unique():
    ids = {new_id("ds") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("ds-") for i in ids)


@pytest.mark.parametrize(
    ("text", "dataset", "selector"),
    [
        ("imagenet@3", "imagenet", "3"),
        ("imagenet", "imagenet", "latest"),
        ("alice/imagenet@production", "alice/imagenet", "production"),
        ("ds-abc@latest", "ds-abc", "latest"),
    ],
)
def test_parse_ref(text, dataset, selector):
    ref = parse_ref(text)
    assert (ref.dataset, ref.selector) == (dataset, selector)


@pytest.mark.parametrize("text", ["", "@3", "x@", "x@Bad Alias", "x@-1"])
def test_bad_refs(text):
    with pytest.raises(ValueError):
        parse_ref(text)


@pytest.mark.parametrize("alias", ["latest", "3", "Prod", "", "a b"])
def test_bad_aliases(alias):
    with pytest.raises(ValueError):
        check_alias(alias)


@pytest.mark.parametrize(
    ("text", "size"),
    [("500Gi", 500 * 2**30), ("20GB", 20 * 10**9), (1024, 1024), ("1.5Ti", int(1.5 * 2**40))],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", -1, "-5Gi", "lots", "2Pi", True, None, "5Zi"])
def test_bad_sizes(text):
    with pytest.raises(BadRequest):
        parse_size(text)


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor(["名字", "ds-1"]), 2) == ["名字", "ds-1"]
    for bad in ["!!!", encode_cursor(["a"]), encode_cursor({"a": 1})]:  # type: ignore[arg-type]
        with pytest.raises(BadRequest):
            decode_cursor(bad, 2)
    assert parse_limit(None) == 100
    for bad in ["0", "1001", "x"]:
        with pytest.raises(BadRequest):
            parse_limit(bad)
