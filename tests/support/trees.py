"""Generated file trees and an independent implementation of the manifest digest."""

from __future__ import annotations

import os
import random
import stat
import time
from pathlib import Path

import httpx
from blake3 import blake3


def make_tree(root: Path, files: int, size: int = 4096, *, seed: int = 1, dirs: int = 10) -> int:
    """``files`` files of ``size`` random bytes spread over ``dirs`` folders; returns bytes."""
    rng = random.Random(seed)
    for i in range(files):
        d = root / f"part-{i % dirs:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"sample-{i:06d}.bin").write_bytes(rng.randbytes(size))
    return files * size


def make_slow_tree(root: Path, files: int = 600, size: int = 64 << 20) -> Path:
    """Sparse files: minutes of hashing for a reference-mode registration, no disk used — a
    registration that is surely still running when a test acts on it (then cancels it)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(root / f"hole-{i:04d}.bin", "wb") as f:
            f.truncate(size)
    return root


def change_some(root: Path, fraction: float, *, seed: int = 2) -> list[Path]:
    """Rewrite ``fraction`` of the files with new content of the same size."""
    rng = random.Random(seed)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    chosen = rng.sample(files, max(1, int(len(files) * fraction)))
    for p in chosen:
        p.write_bytes(rng.randbytes(p.stat().st_size))
    return chosen


def independent_digest(root: Path) -> tuple[str, int, int]:
    """The version digest as docs/reference/manifest.md defines it, written separately from
    the registry's code: (digest, files, bytes)."""
    entries = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                continue
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            with open(p, "rb") as f:
                digest = blake3(f.read()).hexdigest()
            entries.append(
                (tuple(rel.split("/")), rel, st.st_size, stat.S_IMODE(st.st_mode), digest)
            )
    entries.sort()
    h = blake3()
    for _key, rel, size, mode, digest in entries:
        h.update(f"{rel}\0{size}\0{mode:o}\0{digest}\n".encode())
    return "blake3:" + h.hexdigest(), len(entries), sum(e[2] for e in entries)


def content_map(root: Path) -> dict[str, str]:
    """{relative path: BLAKE3 of the content} of the regular files under ``root``."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = blake3(p.read_bytes()).hexdigest()
    return out


def wait_version(
    client: httpx.Client,
    ds: str,
    number: int,
    *,
    timeout: float = 120,
    until=("ready", "failed", "cancelled"),
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/datasets/{ds}/versions/{number}")
        r.raise_for_status()
        body = r.json()
        if body["status"] in until:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{ds}@{number} still {body['status']} after {timeout}s: {body}")
        time.sleep(0.2)


def wait_job(client: httpx.Client, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/jobs/{job_id}").json()
        if body["state"] in ("done", "failed", "cancelled"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {body['state']}: {body}")
        time.sleep(0.2)
