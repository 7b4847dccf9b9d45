"""Many registrations at once, from two registry processes sharing one database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..support.trees import make_tree, wait_version


def test_fifty_concurrent_registrations_get_distinct_gap_free_numbers(hub, users):
    with users["alice"] as c:
        vol = c.post("/volumes", json={"name": "concurrent", "capacity": "1Gi"}).json()
        ds = c.post("/datasets", json={"name": "concurrent"}).json()
    make_tree(hub.storage_root / "volumes" / vol["id"] / "d", 3, 64)
    token = users.tokens["alice"]
    urls = [hub.registry_url, hub.registry_b_url]  # two processes, one database

    def register(i: int) -> int:
        with hub.client(token, urls[i % 2]) as c:
            r = c.post(
                f"/datasets/{ds['id']}/versions",
                json={"volume_id": vol["id"], "path": "d", "message": f"#{i}"},
            )
            assert r.status_code == 202, r.text
            return r.json()["number"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(register, range(50)))
    assert sorted(numbers) == list(range(1, 51))
    with users["alice"] as c:
        finals = [wait_version(c, ds["id"], n, timeout=300)["status"] for n in range(1, 51)]
        assert finals == ["ready"] * 50
        page = c.get(f"/datasets/{ds['id']}/versions", params={"limit": 1000}).json()
        assert [v["number"] for v in page["items"]] == list(range(50, 0, -1))
        assert len({v["message"] for v in page["items"]}) == 50
