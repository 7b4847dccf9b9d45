"""The S3 engine against moto's real HTTP server: prefixes, single objects, multipart objects,
sync, wrong keys, keys that try to leave the target, uploads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import outside_files, policy, result_of, run_child


@pytest.fixture(scope="module")
def keys(s3_server):
    return {"access_key_id": s3_server.access_key, "secret_access_key": s3_server.secret_key}


@pytest.fixture(scope="module")
def bucket(s3_server):
    s3 = s3_server.client()
    s3.create_bucket(Bucket="fermi-data")
    for i in range(30):
        s3.put_object(
            Bucket="fermi-data", Key=f"imgs/part-{i % 3}/img-{i:03d}.bin", Body=os.urandom(100 + i)
        )
    s3.put_object(Bucket="fermi-data", Key="imgs/README.txt", Body="训练数据".encode())
    s3.put_object(Bucket="fermi-data", Key="imgs/../../escape.txt", Body=b"evil")
    s3.put_object(Bucket="fermi-data", Key="imgs/a/../../../up.txt", Body=b"evil")
    s3.put_object(Bucket="fermi-data", Key="other/x.txt", Body=b"x")
    # a multipart object (boto3 splits above 8 MiB)
    s3.upload_file(_big(), "fermi-data", "big/model.bin")
    return s3


_BIG: list[Path] = []


def _big() -> str:
    import tempfile

    path = Path(tempfile.mkstemp()[1])
    path.write_bytes(os.urandom(20 * 1024 * 1024))
    _BIG.append(path)
    return str(path)


def spec(root: Path, path: str, uri: str, endpoint: str, **pol) -> dict:
    return {
        "direction": "download",
        "source": {"type": "s3", "uri": uri, "bucket": uri.split("/")[2],
                   "key": "/".join(uri.split("/")[3:]), "endpoint": endpoint, "region": None},
        "sink": {"type": "volume", "volume_id": "vol-x", "path": path},
        "policy": policy(**pol),
        "local_root": str(root),
    }  # fmt: skip


def test_prefix_download_skips_escaping_keys_and_writes_nothing_outside(
    bucket, s3_server, volume, keys
):
    before = outside_files(volume)
    code, events, err = run_child(
        spec(volume, "data/imgs", "s3://fermi-data/imgs", s3_server.endpoint), keys
    )
    assert code == 0, (events, err)
    res = result_of(events)
    assert res["files"] == 31
    target = volume / "data" / "imgs"
    assert (target / "README.txt").read_text() == "训练数据"
    assert len(list((target / "part-1").iterdir())) == 10
    assert outside_files(volume) == before  # neither escape.txt nor up.txt appeared anywhere
    assert not list(volume.rglob("escape.txt")) and not list(volume.rglob("up.txt"))
    assert sum("outside the target" in w for w in res["warnings"]) == 2
    assert not [p for p in volume.rglob("*") if ".partial" in p.name]  # staging moved away
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and progress[0]["files_total"] == 31


def test_single_multipart_object_matches(bucket, s3_server, volume, keys):
    code, events, err = run_child(
        spec(volume, "models", "s3://fermi-data/big/model.bin", s3_server.endpoint,
             extra_args=["--multi-thread-cutoff=4Mi", "--multi-thread-streams=3"]), keys,
    )  # fmt: skip
    assert code == 0, (events, err)
    assert (volume / "models" / "model.bin").read_bytes() == _BIG[0].read_bytes()


def test_sync_deletes_extras_copy_keeps_them(bucket, s3_server, volume, keys):
    target = volume / "mirror"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    (target / "sub").mkdir()
    (target / "sub" / "old.bin").write_text("old")
    code, events, _ = run_child(
        spec(volume, "mirror", "s3://fermi-data/other", s3_server.endpoint), keys
    )
    assert code == 0 and (target / "stale.txt").exists() and (target / "x.txt").read_text() == "x"
    code, events, _ = run_child(
        spec(volume, "mirror", "s3://fermi-data/other", s3_server.endpoint, sync=True), keys
    )
    assert code == 0, events
    assert sorted(p.name for p in target.rglob("*")) == ["x.txt"]


def test_wrong_secret_is_unauthorized_and_never_printed(bucket, s3_server, volume):
    wrong = {"access_key_id": s3_server.access_key, "secret_access_key": "wrong-secret-value-123"}
    code, events, err = run_child(
        spec(volume, "x", "s3://fermi-data/imgs", s3_server.endpoint), wrong
    )
    assert code == 2
    res = result_of(events)
    assert res["reason"] == "unauthorized" and not res["retryable"], res
    text = repr(events) + err
    assert "wrong-secret-value-123" not in text
    assert not list(volume.iterdir())


def test_server_down_is_retryable(volume, keys):
    from ..support.ports import free_port

    code, events, _ = run_child(
        spec(volume, "x", "s3://fermi-data/imgs", f"http://127.0.0.1:{free_port()}"), keys
    )
    assert code == 1
    assert result_of(events)["reason"] == "unreachable"


def test_upload_tree_reads_no_symlink(bucket, s3_server, volume, tmp_path, keys):
    src = volume / "out"
    (src / "d").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "d" / "b.txt").write_text("b")
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host secret")
    os.symlink(secret, src / "link.txt")
    os.symlink(tmp_path, src / "linkdir")
    up = {
        "direction": "upload",
        "source": {"type": "volume", "volume_id": "vol-x", "path": "out"},
        "sink": {"type": "s3", "uri": "s3://fermi-data/uploaded", "bucket": "fermi-data",
                 "key": "uploaded", "endpoint": s3_server.endpoint, "no_check_bucket": False},
        "policy": policy(),
        "local_root": str(volume),
    }  # fmt: skip
    code, events, err = run_child(up, keys)
    assert code == 0, (events, err)
    stored = sorted(
        o["Key"]
        for o in bucket.list_objects_v2(Bucket="fermi-data", Prefix="uploaded/")["Contents"]
    )
    assert stored == ["uploaded/a.txt", "uploaded/d/b.txt"]
    # a bucket that does not exist is a clear, permanent error unless no_check_bucket
    up["sink"].update(bucket="missing-bucket", uri="s3://missing-bucket/x")
    code, events, _ = run_child(up, keys)
    assert code == 2 and result_of(events)["reason"] == "not-found"
