"""Through the registry's REST API with its default settings (no loopback allowance, as
shipped): a transfer towards this machine or a metadata service is a 400 and makes nothing."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "source",
    [
        {"type": "git", "url": "http://127.1/r.git"},
        {"type": "git", "url": "http://localhost./r.git"},
        {"type": "s3", "uri": "s3://bucket/p", "endpoint": "http://169.254.169.254"},
        {"type": "huggingface", "repo": "o/r", "endpoint": "http://[::ffff:127.0.0.1]:8080"},
    ],
)
def test_transfers_to_this_machine_are_refused(reg, source):
    with reg["alice"] as c:
        vol = c.post("/volumes", json={"name": "hosts", "capacity": "1Gi"})
        vol_id = (
            vol.json()["id"]
            if vol.status_code == 201
            else c.get("/volumes").json()["items"][0]["id"]
        )
        before = c.get("/transfers").json()["items"]
        r = c.post(
            "/transfers",
            json={"source": source, "sink": {"type": "volume", "volume_id": vol_id, "path": "x"}},
        )
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["reason"] == "invalid-transfer"
        assert (
            "not a remote service address" in body["message"] or "this machine" in body["message"]
        )
        assert c.get("/transfers").json()["items"] == before
