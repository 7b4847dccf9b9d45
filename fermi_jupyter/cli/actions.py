"""The verbs, shared by the CLI and the magics: each asks the workspace manager (through its
sync face) and returns something to show and to use — a Table, a typed model, or a dict."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from ..client import Conflict, Dataset, Job, Version, VersionFailed, Volume
from ..domain.states import JobState
from ..workspace import listing
from ..workspace.checks import split_ref
from ..workspace.errors import WorkspaceError
from ..workspace.reasons import Reason
from ..workspace.sync import Workspace
from .tables import Done, Record, Table, human_bytes

Progress = Callable[[Any], None]


def mounts(ws: Workspace) -> Table:
    answer = ws.mounts()
    rows = [
        {
            "kind": m["kind"],
            "name": m["label"],
            "path": m["mount_path"],
            "access": "read-only" if m["read_only"] else "read-write",
            "status": m["status"] or ("mounted" if m["kind"] == "volume" else "unknown"),
        }
        for m in answer["items"]
    ]
    return Table(
        ["kind", "name", "path", "access", "status"],
        rows,
        "Mounted here",
        empty="nothing is mounted (this server was not started with storage mounts)",
        data=[Record(m) for m in answer["items"]],
    )


def _all(fetch: Callable[[str | None], dict], cap: int = 5000) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        page = fetch(cursor)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor or len(items) >= cap:
            return items


def _volume_rows(items: list[Volume]) -> list[dict[str, Any]]:
    return [
        {
            "name": v.name,
            "id": v.id,
            "type": v.type,
            "capacity": human_bytes(v.capacity_bytes),
            "used": human_bytes(v.used_bytes),
            "use%": f"{100 * v.used_bytes / v.capacity_bytes:.0f}%"
            if v.used_bytes is not None and v.capacity_bytes
            else "—",
            "mounted at": v.mount_path or "",
        }
        for v in items
    ]


def volumes(ws: Workspace, query: str | None = None) -> Table:
    items = [Volume.from_json(v) for v in _all(lambda c: ws.volumes(query, 1000, c))]
    return Table(
        ["name", "id", "type", "capacity", "used", "use%", "mounted at"],
        _volume_rows(items),
        "Volumes",
        empty="you have no volumes yet: fermi volume create NAME",
        data=items,
    )


def _volume(ws: Workspace, name: str) -> Volume:
    if name.startswith("vol-"):
        return Volume.from_json(ws.volume(name))
    found = [Volume.from_json(v) for v in _all(lambda c: ws.volumes(name, 1000, c))]
    exact = [v for v in found if v.name == name]
    if not exact:
        raise WorkspaceError(f"no volume {name!r}; see: fermi volumes", Reason.volume_not_found)
    return Volume.from_json(ws.volume(exact[0].id))


def create_volume(ws: Workspace, args: argparse.Namespace) -> Volume:
    body = {"name": args.name, "capacity": args.capacity, "type": args.volume_type}
    optional = {
        "team": args.team,
        "description": args.description,
        "zone": args.zone,
        "access_mode": args.access_mode,
    }
    body.update({k: v for k, v in optional.items() if v})
    if args.pvc:
        body.update(backend="pvc", pvc_name=args.pvc)
    return Volume.from_json(ws.create_volume(body))


def info(ws: Workspace) -> Done:
    i = ws.info()
    error = (i["registry_error"] or {}).get("message", "none is configured")
    registry = "the registry answers" if i["registry_reachable"] else f"no registry: {error}"
    text = (
        f"fermi_jupyter {i['version']}, acting as {i['user'] or 'nobody (no hub user)'}; "
        f"{registry}; {i['mounts']} mounts here"
    )
    return Done(text, i)


def _folder(ws: Workspace, path: str) -> dict[str, str]:
    """A folder as a request names it: a local path, or VOLUME:path of any volume you use."""
    if ":" in path and not os.path.exists(path):
        vol_name, _, sub = path.partition(":")
        return {"volume_id": _volume(ws, vol_name).id, "path": sub}
    return {"path": path}


def usage(ws: Workspace, name: str) -> Table:
    v = _volume(ws, name)
    return Table(
        ["name", "id", "type", "capacity", "used", "use%", "mounted at"],
        _volume_rows([v]),
        f"Usage of {v.name} ({v.type_hint})" if v.type_hint else f"Usage of {v.name}",
        data=[v],
    )


def ls(ws: Workspace, path: str) -> Table:
    if ":" in path and not os.path.exists(path):
        vol_name, _, sub = path.partition(":")
        vol = _volume(ws, vol_name)
        page = ws.tree(vol.id, sub, limit=1000)
        items = [Record(e) for e in page["items"]]
        title = f"{vol.name}:{sub or '/'}"
    else:
        real = os.path.realpath(os.path.expanduser(path))
        result = listing.list_dir(real, "", limit=1000)
        items = [Record(e.to_json()) for e in result.items]
        title = os.path.abspath(path)
    rows = [
        {
            "name": e.name + ("/" if e.type == "dir" else ""),
            "type": e.type,
            "size": human_bytes(e.size) if e.type == "file" else "",
        }
        for e in items
    ]
    return Table(["name", "type", "size"], rows, title, "empty folder", data=items)


def _dataset_row(d: Dataset) -> dict[str, Any]:
    return {
        "name": d.name,
        "owner": d.owner,
        "visibility": d.visibility + (f" ({d.team})" if d.team else ""),
        "type": d.data_type,
        "latest": d.latest if d.latest is not None else "—",
        "aliases": ", ".join(f"{k}→{v}" for k, v in sorted(d.aliases.items())),
        "tags": ", ".join(d.tags),
        "id": d.id,
    }


def datasets(ws: Workspace, args: argparse.Namespace) -> Table:
    params = {"q": args.query, "scope": args.scope, "tag": args.tag, "owner": args.owner}
    params["data_type"] = args.data_type
    items = [
        Dataset.from_json(d)
        for d in _all(lambda c: ws.datasets(1000, cursor=c, **params), cap=1000)
    ]
    empty = (
        f"no dataset matches {args.query!r}" if args.query else "no datasets yet: fermi register …"
    )
    return Table(
        ["name", "owner", "visibility", "type", "latest", "aliases", "tags", "id"],
        [_dataset_row(d) for d in items],
        "Datasets",
        empty,
        data=items,
    )


def show(ws: Workspace, name: str) -> Dataset:
    return Dataset.from_json(ws.dataset(name))


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {
        "data_type": args.data_type,
        "visibility": args.visibility,
        "team": args.team,
        "description": args.description,
        "tags": args.tags,
        "zone": args.zone,
    }
    return {k: v for k, v in fields.items() if v is not None}


def create(ws: Workspace, args: argparse.Namespace) -> Dataset:
    return Dataset.from_json(ws.create_dataset({"name": args.name, **_fields(args)})["dataset"])


def edit(ws: Workspace, args: argparse.Namespace) -> Dataset:
    fields = _fields(args)
    if args.rename:
        fields["name"] = args.rename
    if not fields:
        raise WorkspaceError(
            "nothing to change: give --visibility, --team, --description, --tag, --type, "
            "--zone or --rename",
            Reason.invalid_parameter,
        )
    return Dataset.from_json(ws.update_dataset(args.name, fields))


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
        "mounted": "here" if v.mounted_here else ("yes" if v.mounted else ""),
        "message": v.message,
        "created": (v.created_at or "")[:19],
    }


def versions(ws: Workspace, name: str) -> Table:
    items = [Version.from_json(v) for v in _all(lambda c: ws.versions(name, limit=1000, cursor=c))]
    return Table(
        ["version", "status", "files", "size", "mode", "aliases", "mounted", "message", "created"],
        [_version_row(v) for v in items],
        f"Versions of {name}",
        "no versions yet",
        data=items,
    )


def status(ws: Workspace, ref: str) -> Version:
    return Version.from_json(ws.version(*split_ref(ref)))


def register(ws: Workspace, args: argparse.Namespace, progress: Progress | None) -> Version:
    body: dict[str, Any] = {**_folder(ws, args.path), "mode": args.mode, "message": args.message}
    if args.parents:
        body["parents"] = [_resolve_parent(ws, p) for p in args.parents]
    if args.version_of:
        v = Version.from_json(ws.register(args.version_of, body))
    else:
        try:
            created = ws.create_dataset({"name": args.name, **_fields(args), "version": body})
        except Conflict as e:
            if e.reason != Reason.exists.value:
                raise
            raise WorkspaceError(
                f"you already have a dataset named {args.name!r}; "
                f"add a version with --version-of {args.name}",
                Reason.exists,
            ) from None
        v = Version.from_json(created["version"])
    if args.wait:
        v = ws.wait(v.dataset_id, v.number, on_progress=progress, timeout=args.timeout)
    return v


def _resolve_parent(ws: Workspace, text: str) -> str:
    return Version.from_json(ws.version(*split_ref(text))).ref


def cancel(ws: Workspace, ref: str) -> Job:
    return Job.from_json(ws.cancel(*split_ref(ref)))


def _wait_job(ws: Workspace, job: Job, progress: Progress | None, timeout: float | None) -> Job:
    job = ws.wait_job(job, on_progress=progress, timeout=timeout)
    if job.state != JobState.done.value:
        raise VersionFailed(
            f"{job.kind} of {job.version} {job.state}: {job.error}", reason=job.state
        )
    return job


def verify(ws: Workspace, ref: str, progress: Progress | None, timeout: float | None) -> Job:
    return _wait_job(ws, Job.from_json(ws.verify(*split_ref(ref))), progress, timeout)


def restore(
    ws: Workspace, ref: str, path: str, progress: Progress | None, timeout: float | None
) -> Job:
    job = Job.from_json(ws.restore(*split_ref(ref), _folder(ws, path)))
    return _wait_job(ws, job, progress, timeout)


def diff(ws: Workspace, base: str, target: str, limit: int) -> Table:
    ds, sel = split_ref(target)
    against = base if split_ref(base)[0] != ds else split_ref(base)[1]
    d = ws.diff(ds, sel, against, limit)
    rows = (
        [{"change": "+", "path": f["path"], "size": human_bytes(f["size"])} for f in d["added"]]
        + [{"change": "-", "path": f["path"], "size": human_bytes(f["size"])} for f in d["removed"]]
        + [
            {
                "change": "~",
                "path": f["path"],
                "size": f"{human_bytes(f['size_before'])} → {human_bytes(f['size_after'])}",
            }
            for f in d["changed"]
        ]
    )
    n = d["counts"]
    title = (
        f"{base} → {target}: {n['added']} added ({human_bytes(d['bytes']['added'])}), "
        f"{n['removed']} removed ({human_bytes(d['bytes']['removed'])}), "
        f"{n['changed']} changed, {n['unchanged']} unchanged"
        + (" (lists truncated)" if d["truncated"] else "")
    )
    return Table(["change", "path", "size"], rows, title, "no differences", raw=d)


def lineage(ws: Workspace, ref: str) -> Table:
    d = ws.lineage(*split_ref(ref))
    rows = [
        {
            "relation": rel,
            "version": n["label"],
            "owner": n["owner"] or "",
            "status": n["status"] or "",
        }
        for rel, nodes in (("parent", d["parents"]), ("child", d["children"]))
        for n in nodes
    ]
    if d.get("source"):  # imported by a transfer
        rows.insert(0, {"relation": "from", "version": d["source"], "owner": "", "status": ""})
    title = f"Lineage of {d['version']['label']}"
    return Table(
        ["relation", "version", "owner", "status"], rows, title, "no parents, no children", raw=d
    )


def manifest(ws: Workspace, ref: str) -> Table:
    ds, sel = split_ref(ref)
    items = _all(lambda c: ws.manifest(ds, sel, 1000, c), cap=100_000)
    rows = [
        {"path": e["path"], "size": human_bytes(e["size"]), "digest": e["digest"][:16]}
        for e in items
    ]
    return Table(
        ["path", "size", "digest"],
        rows,
        f"Files of {ref}",
        "no files",
        data=[Record(e) for e in items],
    )


def alias(ws: Workspace, ref: str, name: str) -> Done:
    ds, sel = split_ref(ref)
    v = Version.from_json(ws.version(ds, sel))
    answer = ws.set_alias(ds, name, {"version": v.number})
    return Done(f"{name} now names {v.label}", answer)


def unalias(ws: Workspace, name: str, alias_name: str) -> Done:
    ws.delete_alias(name, alias_name)
    return Done(
        f"removed the alias {alias_name} of {name}", {"dataset": name, "removed": alias_name}
    )


def delete(ws: Workspace, ref: str, whole: bool) -> Done:
    if whole:
        if "@" in ref:
            raise WorkspaceError(
                "delete --dataset takes a dataset NAME, not NAME@N", Reason.invalid_ref
            )
        ws.delete_dataset(ref)
        return Done(f"deleted the dataset {ref} and all its versions", {"deleted": ref})
    if "@" not in ref:
        raise WorkspaceError(
            f"which version? fermi delete {ref}@N (or all of it: fermi delete {ref} --dataset)",
            Reason.invalid_ref,
        )
    ws.delete_version(*split_ref(ref))
    return Done(f"deleted {ref}", {"deleted": ref})


def _job_row(j: Job) -> dict[str, Any]:
    p = j.progress
    return {
        "id": j.id,
        "kind": j.kind,
        "state": j.state,
        "version": j.version or "",
        "progress": f"{p.files_done or 0:,}/{p.files_total or 0:,} files" if p.files_total else "",
        "created": (j.created_at or "")[:19],
        "error": j.error or "",
    }


def jobs(ws: Workspace, state: str | None) -> Table:
    items = [Job.from_json(j) for j in ws.jobs(state, 200)["items"]]
    return Table(
        ["id", "kind", "state", "version", "progress", "created", "error"],
        [_job_row(j) for j in items],
        "Jobs",
        "no jobs",
        data=items,
    )


def job(ws: Workspace, job_id: int, cancel_it: bool) -> Job:
    return Job.from_json(ws.cancel_job(str(job_id)) if cancel_it else ws.job(str(job_id)))


def audit(ws: Workspace, args: argparse.Namespace) -> Table:
    page = ws.audit(action=args.action, actor=args.actor, target=args.target, limit=args.limit)
    rows = [
        {
            "at": (e["at"] or "")[:19],
            "actor": e["actor"],
            "action": e["action"],
            "target": e["target"],
        }
        for e in page["items"]
    ]
    return Table(
        ["at", "actor", "action", "target"],
        rows,
        "Audit",
        "nothing recorded",
        data=[Record(e) for e in page["items"]],
    )


def mount_records(ws: Workspace) -> Table:
    """What every running server of yours mounts, as the registry recorded it at spawn."""
    items = ws.mount_records()["items"]
    rows = [
        {
            "server": m["server"],
            "version": m["version"],
            "path": m["mount_path"],
            "since": (m.get("created_at") or "")[:19],
        }
        for m in items
    ]
    return Table(
        ["server", "version", "path", "since"],
        rows,
        "Dataset versions mounted by your servers",
        "none of your servers mounts a dataset",
        data=[Record(m) for m in items],
    )
