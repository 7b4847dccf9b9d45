"""The verbs, shared by the CLI and the magics. Each returns something to show and to use."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from ..client import Conflict, Job, RegistryClient, Version, VersionFailed
from ..domain.refs import parse_ref
from ..mounts import MountError, load_mounts, locate, parents
from .tables import Table, human_bytes

Progress = Callable[[Any], None]


def _ref(text: str) -> tuple[str, str]:
    try:
        ref = parse_ref(text)
    except ValueError as e:
        raise MountError(str(e), reason="bad-ref") from None
    return ref.dataset, ref.selector


def mounts(client: RegistryClient | None) -> Table:
    items = load_mounts()
    rows = []
    for m in items:
        status = "mounted"
        if m.kind == "dataset" and client is not None and m.dataset_id and m.version:
            try:
                status = client.version(m.dataset_id, m.version).status
            except Exception:  # the table is still useful without the registry
                status = "unknown"
        rows.append(
            {
                "kind": m.kind,
                "name": m.name,
                "path": m.mount_path,
                "access": "read-only" if m.read_only else "read-write",
                "status": status,
            }
        )
    return Table(
        ["kind", "name", "path", "access", "status"],
        rows,
        "Mounted here",
        empty="nothing is mounted (this server was not started with storage mounts)",
        data=items,
    )


def volumes(client: RegistryClient) -> Table:
    here = {m.volume_id: m.mount_path for m in load_mounts() if m.kind == "volume"}
    items = client.volumes()
    rows = [
        {
            "name": v.name,
            "id": v.id,
            "type": v.type,
            "capacity": human_bytes(v.capacity_bytes),
            "used": human_bytes(v.used_bytes),
            "mounted at": here.get(v.id, ""),
        }
        for v in items
    ]
    return Table(
        ["name", "id", "type", "capacity", "used", "mounted at"],
        rows,
        "Volumes",
        empty="you have no volumes yet: create one on the spawn page",
        data=items,
    )


def ls(client: RegistryClient | None, path: str) -> Table:
    if ":" in path and not os.path.exists(path) and client is not None:
        vol_name, _, sub = path.partition(":")
        vol = next((v for v in client.volumes() if vol_name in (v.id, v.name)), None)
        if vol is None:
            raise MountError(f"no volume {vol_name!r}; see: fermi volumes", reason="not-found")
        page = client.tree(vol.id, sub, limit=500)
        rows = [
            {
                "name": e.name + ("/" if e.type == "dir" else ""),
                "type": e.type,
                "size": human_bytes(e.size) if e.type == "file" else "",
            }
            for e in page.items
        ]
        return Table(
            ["name", "type", "size"],
            rows,
            f"{vol.name}:{sub or '/'}",
            "empty folder",
            data=page.items,
        )
    real = os.path.realpath(os.path.expanduser(path))
    if not os.path.isdir(real):
        raise MountError(f"{path} is not a folder", reason="not-a-directory")
    rows = []
    with os.scandir(real) as it:
        for e in sorted(it, key=lambda e: e.name)[:1000]:
            is_dir = e.is_dir()
            size = "" if is_dir else human_bytes(e.stat(follow_symlinks=False).st_size)
            rows.append(
                {
                    "name": e.name + ("/" if is_dir else ""),
                    "type": "dir" if is_dir else "file",
                    "size": size,
                }
            )
    return Table(["name", "type", "size"], rows, os.path.abspath(path), "empty folder")


def datasets(client: RegistryClient, query: str | None, scope: str = "all") -> Table:
    items = client.datasets(query, scope=scope, limit=500)
    rows = [
        {
            "name": d.name,
            "owner": d.owner,
            "visibility": d.visibility,
            "type": d.data_type,
            "latest": d.latest if d.latest is not None else "—",
            "tags": ", ".join(d.tags),
            "id": d.id,
        }
        for d in items
    ]
    empty = f"no dataset matches {query!r}" if query else "no datasets yet: fermi register …"
    return Table(
        ["name", "owner", "visibility", "type", "latest", "tags", "id"],
        rows,
        "Datasets",
        empty,
        data=items,
    )


def _version_row(v: Version) -> dict[str, Any]:
    prog = v.progress
    done = f"{prog.files_done}/{prog.files_total}" if v.status == "processing" else ""
    return {
        "version": v.number,
        "status": v.status,
        "files": v.files if v.files is not None else done,
        "size": human_bytes(v.bytes),
        "mode": v.mode,
        "aliases": ", ".join(v.aliases),
        "message": v.message,
        "created": (v.created_at or "")[:19],
    }


def versions(client: RegistryClient, name: str) -> Table:
    items = client.versions(name)
    rows = [_version_row(v) for v in items]
    return Table(
        ["version", "status", "files", "size", "mode", "aliases", "message", "created"],
        rows,
        f"Versions of {name}",
        "no versions yet",
        data=items,
    )


def status(client: RegistryClient, ref: str) -> Version:
    return client.version(*_ref(ref))


def register(
    client: RegistryClient, args: argparse.Namespace, progress: Progress | None
) -> Version:
    here = load_mounts()
    mount, sub = locate(args.path, here)
    common = {"mode": args.mode, "message": args.message, "parents": parents(here)}
    if args.version_of:
        v = client.register(args.version_of, mount.volume_id or "", sub, **common)
    else:
        fields = {"data_type": args.data_type, "visibility": args.visibility, "tags": args.tags}
        if args.team:
            fields["team"] = args.team
        try:
            v = client.create_and_register(
                args.name, mount.volume_id or "", sub, **common, **fields
            )
        except Conflict as e:
            if e.reason != "exists":
                raise
            raise MountError(
                f"you already have a dataset named {args.name!r}; "
                f"add a version with --version-of {args.name}",
                reason="exists",
            ) from None
    if args.wait:
        v = client.wait(v.dataset_id, v.number, on_progress=progress, timeout=args.timeout)
    return v


def _wait_job(
    client: RegistryClient, job: Job, progress: Progress | None, timeout: float | None = None
) -> Job:
    job = client.wait_job(job.id, on_progress=progress, timeout=timeout)
    if job.state != "done":
        raise VersionFailed(
            f"{job.kind} of {job.version} {job.state}: {job.error}", reason=job.state
        )
    return job


def verify(
    client: RegistryClient, ref: str, progress: Progress | None, timeout: float | None = None
) -> Job:
    return _wait_job(client, client.verify(*_ref(ref)), progress, timeout)


def restore(
    client: RegistryClient,
    ref: str,
    path: str,
    progress: Progress | None,
    timeout: float | None = None,
) -> Job:
    mount, sub = locate(path, load_mounts())
    if not sub:
        raise MountError("restore into a new folder inside the volume, e.g. /workspace/restored")
    dataset, selector = _ref(ref)
    return _wait_job(
        client, client.restore(dataset, selector, mount.volume_id or "", sub), progress, timeout
    )
