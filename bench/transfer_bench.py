"""Transfer engines against their references, on the same objects, in the same run.

* S3 (moto's server on loopback): a prefix of many 10 KB objects and one large object, by our
  engine (``python -m fermi_jupyter.transfers.run``: obstore, concurrent gets and ranged streams)
  against ``rclone copy`` with its default settings; for the engine choice, also boto3's
  transfer manager (``download_file`` per key, 10 threads). Peak RSS of our process for the
  many-object run (``wait4``).
* Git (``git daemon`` on loopback): our engine's clone against a plain ``git clone``.

Quick sizes: 2,000 objects, 256 MiB, a 200 MB repository. ``--full``: 10,000 objects, 2 GiB,
a 1 GB repository (the issue's sizes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import REPO, WORK, Figure, need

SIZES = {
    "quick": {"objects": 2_000, "big": 256 * 2**20, "repo": 200 * 2**20},
    "full": {"objects": 10_000, "big": 2 * 2**30, "repo": 2**30},
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _popen_rss(cmd: list[str], stdin: bytes, env: dict) -> tuple[float, int, int, bytes]:
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(stdin)
    proc.stdin.close()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss * 1024, proc.returncode, out


def ours(spec: dict, secrets: dict[str, str]) -> tuple[float, int]:
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **secrets}
    cmd = [sys.executable, "-m", "fermi_jupyter.transfers.run"]
    seconds, rss, code, out = _popen_rss(
        cmd, json.dumps({"tag": "bench", "allow_loopback": True, **spec}).encode(), env
    )
    if code != 0:
        raise SystemExit(f"bench: our transfer failed: {out.decode()[-800:]}")
    return seconds, rss


def _alternate(fns: dict[str, callable], runs: int = 3) -> dict[str, list[float]]:  # type: ignore[valid-type]
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            times[name].append(fn())
    return times


def s3(size: str) -> list[Figure]:
    need("rclone")
    n, big = SIZES[size]["objects"], SIZES[size]["big"]
    work = WORK / "transfers"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    port = _free_port()
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    server = subprocess.Popen(
        [exe, "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        for _ in range(100):
            try:
                s3c = boto3.client(
                    "s3",
                    endpoint_url=endpoint,
                    aws_access_key_id="k",
                    aws_secret_access_key="s",
                    region_name="us-east-1",
                )
                s3c.create_bucket(Bucket="bench")
                break
            except Exception:
                time.sleep(0.2)
        from concurrent.futures import ThreadPoolExecutor

        body = os.urandom(10_000)
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda i: s3c.put_object(
                        Bucket="bench", Key=f"small/d{i // 500:03d}/o{i:06d}", Body=body
                    ),
                    range(n),
                )
            )
        bigfile = work / "big.src"
        with open(bigfile, "wb") as f:
            for _ in range(big // 2**24):
                f.write(os.urandom(2**24))
        with open(bigfile, "rb") as f:  # one PUT: moto's multipart completion fails at 2 GiB
            s3c.put_object(Bucket="bench", Key="big/blob.bin", Body=f)
        bigfile.unlink()

        secrets = {"FERMI_SECRET_ACCESS_KEY_ID": "k", "FERMI_SECRET_SECRET_ACCESS_KEY": "s"}
        plain_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        rclone_env = {
            **plain_env,
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": "k",
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": "s",
            "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
        }
        figures: list[Figure] = []
        rss_seen: list[int] = []
        for label, prefix, key in (
            ("many", "small", "small"),
            ("big", "big/blob.bin", "big/blob.bin"),
        ):
            dest = work / "dest"

            def fresh(dest: Path = dest) -> None:
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir()

            def run_ours(key: str = key, dest: Path = dest, label: str = label) -> float:
                fresh()
                spec = {
                    "direction": "download",
                    "source": {
                        "type": "s3",
                        "uri": f"s3://bench/{key}",
                        "bucket": "bench",
                        "key": key,
                        "endpoint": endpoint,
                        "region": "us-east-1",
                    },
                    "sink": {"type": "volume", "volume_id": "vol-bench", "path": "out"},
                    "policy": {
                        "backoff_limit": 0,
                        "active_deadline_seconds": None,
                        "extra_args": [],
                        "env": {},
                        "sync": False,
                    },
                    "local_root": str(dest),
                }
                seconds, rss = ours(spec, secrets)
                if label == "many":
                    rss_seen.append(rss)
                return seconds

            def run_rclone(prefix: str = prefix, dest: Path = dest) -> float:
                fresh()
                t = time.perf_counter()
                subprocess.run(
                    ["rclone", "copy", f"bench:bench/{prefix}", str(dest / "out")],
                    env=rclone_env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                return time.perf_counter() - t

            def run_transfer_manager(prefix: str = prefix, dest: Path = dest) -> float:
                fresh()
                t = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", TM_SCRIPT, endpoint, prefix, str(dest / "out")],
                    check=True,
                )
                return time.perf_counter() - t

            fns = {"ours": run_ours, "rclone": run_rclone}
            if os.environ.get("FERMI_BENCH_TM"):  # the engine choice's third candidate (slow)
                fns["tm"] = run_transfer_manager
            times = _alternate(fns)
            med = {k: statistics.median(v) for k, v in times.items()}
            what = (
                f"{n:,} objects of 10 KB" if label == "many" else f"one {big / 2**30:g} GiB object"
            )
            figures.append(
                Figure(f"S3 download, {what}", med["ours"], med["rclone"], "rclone copy", 1.0)
            )
            if "tm" in med:
                figures.append(
                    Figure(
                        f"  boto3 transfer manager, {what}",
                        med["tm"],
                        med["rclone"],
                        "rclone copy",
                        None,
                    )
                )
        peak = max(rss_seen)
        figures.append(
            Figure(f"peak RSS, {n:,}-object download", peak, 150 * 2**20, "budget", 1.0, unit="B")
        )
        return figures
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


TM_SCRIPT = r"""
import os, sys, boto3
from concurrent.futures import ThreadPoolExecutor
from boto3.s3.transfer import TransferConfig
endpoint, prefix, dest = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                  region_name="us-east-1")
keys = [o for p in s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix=prefix)
        for o in p.get("Contents", [])]
cfg = TransferConfig()  # boto3's defaults: 8 MiB parts, 10 threads per file
def get(o):
    rel = o["Key"][len(prefix):].lstrip("/") or os.path.basename(o["Key"])
    path = os.path.join(dest, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s3.download_file("bench", o["Key"], path, Config=cfg)
with ThreadPoolExecutor(10) as pool:
    list(pool.map(get, keys))
"""


def git(size: str) -> list[Figure]:
    total = SIZES[size]["repo"]
    work = WORK / "transfers-git"
    src = work / f"repo-{total}"
    if not (work / f"repo-{total}.complete").exists():
        shutil.rmtree(work, ignore_errors=True)
        src.mkdir(parents=True)
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@b",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@b",
        }
        subprocess.run(["git", "init", "-q", "--bare", str(src)], check=True)
        tree = work / "tree"
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
        # incompressible files in a few commits: the pack is about the repository's size
        per_commit = total // 4
        for c in range(4):
            for i in range(per_commit // (4 * 2**20)):
                (tree / f"c{c}-f{i:04d}.bin").write_bytes(os.urandom(4 * 2**20))
            subprocess.run(["git", "-C", str(tree), "add", "-A"], check=True, env=env)
            subprocess.run(["git", "-C", str(tree), "commit", "-qm", f"c{c}"], check=True, env=env)
        subprocess.run(
            ["git", "-C", str(tree), "push", "-q", str(src), "HEAD:refs/heads/main"],
            check=True,
            env=env,
        )
        subprocess.run(
            ["git", "-C", str(src), "symbolic-ref", "HEAD", "refs/heads/main"], check=True
        )
        shutil.rmtree(tree)
        (work / f"repo-{total}.complete").write_text("")
    port = _free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={work}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(work),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"git://127.0.0.1:{port}/{src.name}"
    dest = work / "dest"
    time.sleep(0.5)
    try:

        def fresh() -> None:
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()

        def plain() -> float:
            fresh()
            t = time.perf_counter()
            subprocess.run(["git", "clone", "-q", url, str(dest / "plain")], check=True)
            return time.perf_counter() - t

        def run_ours() -> float:
            fresh()
            spec = {
                "direction": "download",
                "source": {"type": "git", "url": url, "ref": None, "dir": src.name},
                "sink": {"type": "volume", "volume_id": "vol-bench", "path": "code"},
                "policy": {
                    "backoff_limit": 0,
                    "active_deadline_seconds": None,
                    "extra_args": [],
                    "env": {},
                    "sync": False,
                },
                "local_root": str(dest),
            }
            return ours(spec, {})[0]

        times = _alternate({"ours": run_ours, "plain": plain})
        return [
            Figure(
                f"Git clone, {total / 2**30:.2g} GB repository",
                statistics.median(times["ours"]),
                statistics.median(times["plain"]),
                "git clone",
                1.1,
            )
        ]
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()
        shutil.rmtree(dest, ignore_errors=True)


def run(size: str) -> list[Figure]:
    os.environ.setdefault("PYTHONPATH", str(REPO))
    return s3(size) + git(size)
