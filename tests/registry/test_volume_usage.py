"""Volume usage in volume lists (the sidebar's usage bars) is served from a cache that is
recounted in the background; how long a figure is served follows what its walk cost, so a
small volume's bar follows its owner's writes within seconds."""

from __future__ import annotations

import time

from fermi_jupyter.registry.managers.volumes import UsageCache

from ..support.registry import InProcessRegistry


def _settled(cache: UsageCache, vol: str, path, timeout: float = 10) -> dict:  # type: ignore[no-untyped-def]
    """The figure once no recount is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cache.get(vol, path, max_age=float("inf"))
        if value is not None and vol not in cache._busy:
            return value
        time.sleep(0.01)
    raise AssertionError("no usage figure")


def test_a_cheap_walk_is_recounted_soon_a_costly_one_late(tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "a.bin").write_bytes(b"x" * 1000)
    cheap = UsageCache(ttl=30.0, min_ttl=1.0)
    cheap.get("v", vol)  # the first figure is counted in the background
    assert _settled(cheap, "v", vol)["bytes"] == 1000
    (vol / "b.bin").write_bytes(b"y" * 500)
    assert cheap.get("v", vol)["bytes"] == 1000  # served as it is while fresh
    assert "v" not in cheap._busy  # and not recounted
    time.sleep(1.05)
    assert cheap.get("v", vol)["bytes"] == 1500  # stale and cheap: recounted, then served

    # a walk that cost as much as the longest wait (cost_factor): served for all of it
    costly = UsageCache(ttl=30.0, min_ttl=1.0, cost_factor=1e9)
    costly.get("v", vol)
    first = _settled(costly, "v", vol)
    (vol / "c.bin").write_bytes(b"z" * 100)
    time.sleep(1.05)
    assert costly.get("v", vol) == first and "v" not in costly._busy  # no recount started

    # stale, and too costly to recount before answering: served, recounted in the background
    slow = UsageCache(ttl=30.0, min_ttl=1.0, inline_below=0.0)
    slow.get("v", vol)
    assert _settled(slow, "v", vol)["bytes"] == 1600
    (vol / "d.bin").write_bytes(b"w" * 10)
    time.sleep(1.05)
    assert slow.get("v", vol)["bytes"] in (1600, 1610)  # (the recount may be quick)
    assert _settled(slow, "v", vol)["bytes"] == 1610


def test_the_volume_list_shows_new_files_within_seconds(tmp_path):
    """Through the registry as configured by default (2 s at least, 60 s at most)."""
    reg = InProcessRegistry(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite'}").start()
    try:
        with reg["alice"] as c:
            vol = c.post("/volumes", json={"name": "usage", "capacity": "1Gi"}).json()
            assert vol["usage"]["bytes"] == 0
            (reg.storage_root / "volumes" / vol["id"] / "new.bin").write_bytes(b"n" * 4096)
            # within the shortest wait (2 s), the list may show the figure it had
            first = next(v for v in c.get("/volumes").json()["items"] if v["id"] == vol["id"])
            assert first["usage"]["bytes"] in (0, 4096)
            time.sleep(2.1)
            # after it, the first look shows the file: the volume is small, so it is recounted
            # before the list is sent (before, every figure was served for 60 s)
            items = c.get("/volumes").json()["items"]
            seen = next(v["usage"] for v in items if v["id"] == vol["id"])
            assert seen["bytes"] == 4096 and seen["files"] == 1, seen
    finally:
        reg.stop()
