"""Browsing a volume: pages by name, cursors, search, bounds."""

from fermi_jupyter.registry.storage import disk_usage, list_dir


def test_pages_in_name_order(volume):
    d = volume / "big"
    d.mkdir()
    for i in range(250):
        (d / f"f{i:04d}").write_text("x" * i)
    (d / "zdir").mkdir()
    names, cursor = [], None
    while True:
        page, cursor, truncated = list_dir(volume, "big", limit=100, cursor=cursor)
        assert not truncated
        names += [e.name for e in page]
        if not cursor:
            break
    assert names == sorted(names) and len(names) == 251
    first = list_dir(volume, "big", limit=2)[0]
    assert first[0].path == "big/f0000" and first[0].type == "file" and first[0].size == 0
    assert list_dir(volume, "big", limit=1, cursor="f0249")[0][0].type == "dir"


def test_search_below_a_folder_with_resumable_cursor(volume):
    for i in range(30):
        sub = volume / f"d{i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"Image-{i:02d}.png").write_text("p")
        (sub / f"label-{i:02d}.txt").write_text("l")
    found, cursor = [], None
    while True:
        page, cursor, _ = list_dir(volume, "", q="image", limit=7, cursor=cursor)
        found += [e.path for e in page]
        if not cursor:
            break
    assert len(found) == 30 == len(set(found))
    assert all("Image-" in p for p in found)


def test_search_is_bounded(volume, monkeypatch):
    from fermi_jupyter.registry.storage import listing

    monkeypatch.setattr(listing, "MAX_SCANNED", 10)
    for i in range(50):
        (volume / f"x{i}").write_text("")
    page, _cursor, truncated = list_dir(volume, "", q="nomatch", limit=5)
    assert truncated and page == []


def test_disk_usage(volume):
    (volume / "a").mkdir()
    (volume / "a" / "f").write_bytes(b"1" * 1000)
    (volume / "g").write_bytes(b"2" * 24)
    assert disk_usage(volume) == (1024, 2)
