"""The registry end to end: a real JupyterHub, the registry as its managed service, users with
hub tokens, real files, on SQLite and on PostgreSQL (the ``hub`` fixture runs both)."""

from __future__ import annotations

import os
import stat

from ..support.storage_hooks import Hooks
from ..support.trees import (
    change_some,
    content_map,
    independent_digest,
    make_tree,
    wait_job,
    wait_version,
)


def _volume(users, who="alice", name="work"):
    with users[who] as c:
        r = c.post("/volumes", json={"name": name, "capacity": "10Gi", "type": "ssd"})
        if r.status_code == 409:
            return next(v for v in c.get("/volumes").json()["items"] if v["name"] == name)
        assert r.status_code == 201, r.text
        return r.json()


def _dataset(c, name, **fields):
    r = c.post("/datasets", json={"name": name, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def test_register_snapshot_reaches_ready_with_independent_digest(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "imagenet-mini"
    total = make_tree(src, 120, 3000)
    (src / "README.txt").write_text("训练数据 v1\n")
    os.chmod(src / "README.txt", 0o640)
    expected, n_files, n_bytes = independent_digest(src)
    before = {p: p.stat().st_mtime_ns for p in src.rglob("*")}

    with users["alice"] as c:
        ds = _dataset(c, "imagenet-mini", data_type="image", tags=["原始"])
        r = c.post(
            f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "imagenet-mini"}
        )
        assert r.status_code == 202, r.text
        assert r.json()["number"] == 1
        assert r.json()["status"] in ("pending", "processing", "ready")
        v = wait_version(c, ds["id"], 1)
        assert v["status"] == "ready", v
        assert v["digest"] == expected
        assert (v["files"], v["bytes"]) == (n_files, n_bytes)
        assert v["bytes"] >= total
        assert v["progress"]["files_done"] == n_files

        # the manifest, page by page, matches the files
        items, cursor = [], None
        while True:
            page = c.get(
                f"/datasets/{ds['id']}/versions/1/manifest", params={"limit": 50, "cursor": cursor}
            ).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(items) == n_files
        readme = next(i for i in items if i["path"] == "README.txt")
        assert readme["mode"] == "640" and readme["size"] == len("训练数据 v1\n".encode())

        # latest follows the new version; the dataset lists it
        assert c.get(f"/datasets/{ds['id']}").json()["latest"] == 1
        assert c.get(f"/datasets/{ds['id']}/versions/latest").json()["number"] == 1

    # the snapshot is a read-only copy; the source was not touched
    snap = hub.storage_root / "datasets" / ds["id"] / "1"
    assert content_map(snap) == content_map(src)
    assert not stat.S_IMODE((snap / "README.txt").stat().st_mode) & 0o222
    assert {p: p.stat().st_mtime_ns for p in src.rglob("*")} == before


def test_second_version_with_one_percent_changed_stores_about_one_percent(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "dedup"
    total = make_tree(src, 400, 8192, seed=7)
    with users["alice"] as c:
        ds = _dataset(c, "dedup-check")
        url = f"/datasets/{ds['id']}/versions"
        body = {"volume_id": vol["id"], "path": "dedup"}
        assert c.post(url, json=body).status_code == 202
        v1 = wait_version(c, ds["id"], 1)
        assert v1["status"] == "ready" and v1["new_bytes"] >= total * 0.99

        changed = change_some(src, 0.01)
        assert c.post(url, json={**body, "message": "1% changed"}).status_code == 202
        v2 = wait_version(c, ds["id"], 2)
        assert v2["status"] == "ready", v2
        changed_bytes = sum(p.stat().st_size for p in changed)
        assert v2["new_bytes"] == changed_bytes
        assert v2["new_bytes"] <= 0.02 * total
        assert v2["digest"] == independent_digest(src)[0] != v1["digest"]


def test_reference_version_verify_detects_drift(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "ref-data"
    make_tree(src, 20, 1000, seed=3)
    with users["alice"] as c:
        ds = _dataset(c, "in-place")
        r = c.post(
            f"/datasets/{ds['id']}/versions",
            json={"volume_id": vol["id"], "path": "ref-data", "mode": "reference"},
        )
        assert r.status_code == 202
        v = wait_version(c, ds["id"], 1)
        assert v["status"] == "ready" and v["mode"] == "reference"
        assert v["storage_path"] == f"volumes/{vol['id']}/ref-data"
        assert v["new_bytes"] == 0

        job = c.post(f"/datasets/{ds['id']}/versions/1/verify").json()
        done = wait_job(c, job["id"])
        assert done["state"] == "done" and done["result"]["ok"] is True

        (src / "part-000" / "sample-000000.bin").write_bytes(b"changed")
        (src / "new-file.txt").write_text("new")
        job = c.post(f"/datasets/{ds['id']}/versions/1/verify").json()
        done = wait_job(c, job["id"])
        assert done["result"]["ok"] is False
        assert done["result"]["changed"] == ["part-000/sample-000000.bin"]
        assert done["result"]["added"] == ["new-file.txt"]
        assert c.get(f"/datasets/{ds['id']}/versions/1").json()["status"] == "drifted"


def test_restore_copies_a_version_into_a_volume(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "to-restore"
    make_tree(src, 15, 500, seed=4)
    with users["alice"] as c:
        ds = _dataset(c, "restorable")
        c.post(
            f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "to-restore"}
        )
        assert wait_version(c, ds["id"], 1)["status"] == "ready"
        r = c.post(
            f"/datasets/{ds['id']}/versions/1/restore",
            json={"volume_id": vol["id"], "path": "restored/v1"},
        )
        assert r.status_code == 202, r.text
        assert wait_job(c, r.json()["id"])["state"] == "done"
        dest = hub.storage_root / "volumes" / vol["id"] / "restored" / "v1"
        assert independent_digest(dest)[0] == independent_digest(src)[0]
        (dest / "writable.txt").write_text("restored copies are ordinary files")

        # restoring over a non-empty directory is refused, nothing is overwritten
        r = c.post(
            f"/datasets/{ds['id']}/versions/1/restore",
            json={"volume_id": vol["id"], "path": "restored/v1"},
        )
        assert r.status_code == 409 and r.json()["reason"] == "exists"


def test_aliases_move_while_numbers_stay(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "aliased"
    make_tree(src, 5, 100, seed=5)
    with users["alice"] as c:
        ds = _dataset(c, "aliased")
        url = f"/datasets/{ds['id']}/versions"
        for _ in range(2):
            c.post(url, json={"volume_id": vol["id"], "path": "aliased"})
        wait_version(c, ds["id"], 1), wait_version(c, ds["id"], 2)
        assert (
            c.put(f"/datasets/{ds['id']}/aliases/production", json={"version": 1}).status_code
            == 200
        )
        assert c.get(f"{url}/production").json()["number"] == 1
        assert "latest" in c.get(f"{url}/2").json()["aliases"]
        c.put(f"/datasets/{ds['id']}/aliases/production", json={"version": 2})
        assert c.get(f"{url}/production").json()["number"] == 2
        r = c.put(f"/datasets/{ds['id']}/aliases/latest", json={"version": 1})
        assert r.status_code == 400 and "latest" in r.json()["message"]
        r = c.put(f"/datasets/{ds['id']}/aliases/staging", json={"version": 99})
        assert r.status_code == 400 and r.json()["reason"] == "not-ready"


def test_mounted_version_cannot_be_deleted(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "mounted"
    make_tree(src, 5, 100, seed=6)
    with users["alice"] as c:
        ds = _dataset(c, "mounted-ds")
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "mounted"})
        wait_version(c, ds["id"], 1)
        r = c.put(
            "/mounts/alice",
            json={"mounts": [{"version": f"{ds['id']}@1", "mount_path": "/datasets/mounted-ds"}]},
        )
        assert r.status_code == 200, r.text
        r = c.delete(f"/datasets/{ds['id']}/versions/1")
        assert r.status_code == 409 and r.json()["reason"] == "mounted"
        assert "alice" in r.json()["message"]
        assert c.delete(f"/datasets/{ds['id']}").status_code == 409
        assert c.delete("/mounts/alice").status_code == 204
        assert c.delete(f"/datasets/{ds['id']}/versions/1").status_code == 204
        assert not (hub.storage_root / "datasets" / ds["id"] / "1").exists()
        assert c.get(f"/datasets/{ds['id']}/versions/1").status_code == 404
        actions = [
            e["action"] for e in c.get("/audit", params={"target": ds["id"]}).json()["items"]
        ]
        assert {"dataset.create", "version.create", "version.delete"} <= set(actions)
        assert "mount.record" in [e["action"] for e in c.get("/audit").json()["items"]]


def test_bad_input_gets_a_clear_4xx(hub, users):
    vol = _volume(users)
    with users["alice"] as c:
        ds = _dataset(c, "bad-input")
        url = f"/datasets/{ds['id']}/versions"
        cases = [
            ({"volume_id": vol["id"], "path": "does-not-exist"}, 404),
            ({"volume_id": vol["id"], "path": "x", "mode": "copy"}, 400),
            ({"path": "x"}, 400),
            ({"volume_id": "vol-nope", "path": ""}, 404),
        ]
        for body, status in cases:
            r = c.post(url, json=body)
            assert r.status_code == status, (body, r.text)
            assert set(r.json()) == {"message", "reason"}
        r = c.post(url, content=b"{not json")
        assert r.status_code == 400 and r.json()["reason"] == "invalid-json"
        assert c.post("/datasets", json={"name": ""}).status_code == 400
        assert c.post("/datasets", json={"name": "bad-input"}).status_code == 409
        assert c.post("/datasets", json={"name": "x", "visibility": "world"}).status_code == 400
        assert c.post("/volumes", json={"name": "v", "capacity": "-5Gi"}).status_code == 400
        assert c.get("/datasets", params={"limit": 0}).status_code == 400
        assert c.get("/datasets", params={"cursor": "garbage!"}).status_code == 400
        assert c.get(f"{url}/99").status_code == 404
        # nothing half-written: no version was allocated by the refused requests
        assert c.get(url).json()["items"] == []


def test_list_search_and_pagination(hub, users):
    with users["bob"] as c:
        for i in range(7):
            _dataset(
                c,
                f"speech-{i}",
                data_type="audio",
                visibility="org",
                description="中文语音" if i % 2 else "english",
                tags=["清洗"] if i < 3 else [],
            )
        seen, cursor = [], None
        while True:
            page = c.get("/datasets", params={"q": "speech-", "limit": 3, "cursor": cursor}).json()
            seen += [d["name"] for d in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [f"speech-{i}" for i in range(7)]
        assert len(c.get("/datasets", params={"q": "中文语音"}).json()["items"]) == 3
        assert len(c.get("/datasets", params={"tag": "清洗", "q": "speech"}).json()["items"]) == 3
    with users["carol"] as c:  # org visibility: another user sees them
        names = {d["name"] for d in c.get("/datasets", params={"q": "speech-"}).json()["items"]}
        assert len(names) == 7


def test_openapi_and_metrics_are_served(hub, users):
    import httpx

    doc = httpx.get(f"{hub.registry_url}/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/datasets/{ref}/versions" in doc["paths"]
    text = httpx.get(f"{hub.url}/services/fermi-registry/metrics").text
    # (a family shows once it has a sample: jobs_total after a job, see the next test)
    assert (
        'fermi_registry_request_duration_seconds_count{code="200",handler="OpenAPIHandler"' in text
    )


def _samples(text: str) -> dict[tuple, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_every_process_whichever_answers(hub, users):
    """Jobs run in the job process and requests in either serving process; each scrape, on a
    new connection (the kernel picks the process), adds them all up."""
    import httpx

    vol = _volume(users)
    make_tree(hub.storage_root / "volumes" / vol["id"] / "counted", 3, 100)
    with users["alice"] as c:
        ds = _dataset(c, "counted")
        r = c.post(
            f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "counted"}
        )
        assert wait_version(c, ds["id"], r.json()["number"])["status"] == "ready"
    done = ("fermi_registry_jobs_total", (("kind", "register"), ("state", "done")))
    running = ("fermi_registry_jobs_running", ())
    seen = []
    for _ in range(6):
        with httpx.Client() as fresh:  # a connection of its own each time
            seen.append(_samples(fresh.get(f"{hub.url}/services/fermi-registry/metrics").text))
    assert all(s[done] >= 1 for s in seen), [s.get(done) for s in seen]
    assert len({s[done] for s in seen}) == 1, [s[done] for s in seen]
    assert all(s[running] == 0 for s in seen)


def test_cancel_a_processing_version_removes_its_partial_data(hub, users):
    vol = _volume(users)
    src = hub.storage_root / "volumes" / vol["id"] / "to-cancel"
    make_tree(src, 4000, 8192, seed=12, dirs=40)
    hooks = Hooks(hub.home / "storage-hooks")
    hooks.arm("worker-batch")  # hold the copy, whichever registry process runs the job
    try:
        with users["alice"] as c:
            ds = _dataset(c, "cancelled-ds")
            r = c.post(
                f"/datasets/{ds['id']}/versions",
                json={"volume_id": vol["id"], "path": "to-cancel"},
            )
            n = r.json()["number"]
            hooks.reached("worker-batch", timeout=120)  # processing, files being copied
            r = c.delete(f"/datasets/{ds['id']}/versions/{n}")
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "cancelling"
    finally:
        hooks.disarm()
    with users["alice"] as c:
        v = wait_version(c, ds["id"], n)
        assert v["status"] == "cancelled" and v["error"] is None
        assert not (hub.storage_root / "datasets" / ds["id"] / str(n)).exists()
        assert not (hub.storage_root / "datasets" / ds["id"] / f".{n}.partial").exists()
        jobs = c.get("/jobs", params={"state": "cancelled"}).json()["items"]
        assert any(j["version"] == f"{ds['id']}@{n}" for j in jobs)
        # the number is never reused
        r = c.post(
            f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "to-cancel"}
        )
        assert r.json()["number"] == n + 1
        assert wait_version(c, ds["id"], n + 1)["status"] == "ready"


def test_volume_usage_and_tree(hub, users):
    vol = _volume(users, name="usage")
    root = hub.storage_root / "volumes" / vol["id"]
    (root / "a").mkdir()
    (root / "a" / "x.bin").write_bytes(b"1" * 5000)
    (root / "b.txt").write_text("hello")
    with users["alice"] as c:
        v = c.get(f"/volumes/{vol['id']}").json()
        assert v["usage"]["bytes"] == 5005 and v["usage"]["files"] == 2
        assert v["type_hint"] and v["capacity_bytes"] == 10 * 2**30
        tree = c.get(f"/volumes/{vol['id']}/tree").json()
        assert [(i["name"], i["type"]) for i in tree["items"]] == [("a", "dir"), ("b.txt", "file")]
        found = c.get(f"/volumes/{vol['id']}/tree", params={"q": "X.B"}).json()["items"]
        assert [i["path"] for i in found] == ["a/x.bin"]
        r = c.get(f"/volumes/{vol['id']}/tree", params={"path": "b.txt"})
        assert r.status_code == 400 and r.json()["reason"] == "not-a-directory"


def test_the_202_shows_the_version_as_reading_it_does(hub, users):
    """The registration's answer is made without reading anything back (a new number has no
    alias, a pending version is neither ``latest`` nor mountable): it must still say what a
    read of the same version says, field for field."""
    vol = _volume(users)
    make_tree(hub.storage_root / "volumes" / vol["id"] / "same-answer", 3, 100)
    with users["alice"] as c:
        ds = _dataset(c, "same-answer")
        url = f"/datasets/{ds['id']}/versions"
        body = {"volume_id": vol["id"], "path": "same-answer", "message": "第一版"}
        first = c.post(url, json=body)
        assert first.status_code == 202, first.text
        ready = wait_version(c, ds["id"], 1)
        assert c.put(f"/datasets/{ds['id']}/aliases/stable", json={"version": 1}).status_code < 300
        second = c.post(url, json=body)
        assert second.status_code == 202, second.text
        read = c.get(f"{url}/2").json()
    posted = second.json()
    assert posted["status"] == "pending" and posted["aliases"] == [] and not posted["mounted"]
    moving = {"status", "progress", "digest", "files", "bytes", "ready_at", "warnings"}
    assert set(posted) == set(read) == set(ready)
    assert {k: v for k, v in posted.items() if k not in moving} == {
        k: v for k, v in read.items() if k not in moving
    }
    assert "stable" not in read["aliases"] and "latest" not in posted["aliases"]
