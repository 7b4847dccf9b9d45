"""Spawn profiles from ``kubespawner_profiles/*.yaml`` → KubeSpawner's ``profile_list``.

A malformed file stops the hub at start-up with a message naming the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..i18n import msg

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MEM_RE = re.compile(r"^\d+(\.\d+)?[KMGT]i?$|^\d+$")
LIMITS = {"cpu": 256.0, "gpu": 16}
MEM_MAX = 4 * 2**40


class ProfileError(ValueError):
    def __init__(self, path: Path, field: str, message: str):
        super().__init__(f"{path.name}: {field}: {message}")
        self.path, self.field = path, field


def _mem_bytes(text: str) -> int:
    units = {
        "K": 10**3,
        "M": 10**6,
        "G": 10**9,
        "T": 10**12,
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
    }
    m = re.match(r"^(\d+(?:\.\d+)?)([KMGT]i?)?$", text)
    assert m
    return int(float(m.group(1)) * units.get(m.group(2) or "", 1))


def _number(path: Path, field: str, value: Any, maximum: float, integer: bool = False) -> float:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise ProfileError(
            path, field, f"must be a {'whole ' if integer else ''}number, not {value!r}"
        )
    if not 0 < value <= maximum:
        raise ProfileError(path, field, f"must be more than 0 and at most {maximum:g}, not {value}")
    return value


def _memory(path: Path, field: str, value: Any) -> str:
    text = str(value)
    if not MEM_RE.match(text) or not 0 < _mem_bytes(text) <= MEM_MAX:
        raise ProfileError(
            path, field, f"must be a size such as 32G or 512Mi (at most 4Ti), not {value!r}"
        )
    return text


def _mounts(path: Path, value: Any) -> dict[str, list[dict[str, Any]]]:
    """Default mounts: ``datasets: [{ref, version?, mount_path?}]``, ``volumes: [{mount_path}]``
    (the user's first volume). They only pre-fill the form; the spawn validates them again."""
    from .plan import PlanError, normalize_path

    if value is None:
        return {"datasets": [], "volumes": []}
    if not isinstance(value, dict) or set(value) - {"datasets", "volumes"}:
        raise ProfileError(path, "mounts", "must be a mapping with 'datasets' and/or 'volumes'")
    out: dict[str, list[dict[str, Any]]] = {"datasets": [], "volumes": []}
    for kind in ("datasets", "volumes"):
        items = value.get(kind) or []
        if not isinstance(items, list):
            raise ProfileError(path, f"mounts.{kind}", "must be a list")
        for i, item in enumerate(items):
            field = f"mounts.{kind}.{i}"
            if not isinstance(item, dict):
                raise ProfileError(path, field, "must be a mapping")
            if kind == "datasets" and not isinstance(item.get("ref"), str):
                raise ProfileError(path, f"{field}.ref", "is required (a dataset id or name)")
            mount_path = item.get("mount_path")
            if mount_path is not None:
                try:
                    mount_path = normalize_path(field, mount_path, "/home/jovyan")
                except PlanError as e:
                    raise ProfileError(path, f"{field}.mount_path", e.message) from None
            entry = {"mount_path": mount_path or ""}
            if kind == "datasets":
                entry.update(ref=item["ref"], version=str(item.get("version") or "latest"))
            out[kind].append(entry)
    return out


def load_profile(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ProfileError(path, "(file)", f"not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ProfileError(path, "(file)", "must be a mapping of profile fields")
    for key in ("slug", "display_name", "image"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ProfileError(path, key, "is required")
    if not SLUG_RE.match(data["slug"]):
        raise ProfileError(path, "slug", "use lowercase letters, digits and '-' (e.g. pytorch-gpu)")
    override: dict[str, Any] = {"image": data["image"]}
    cpu = data.get("cpu") or {}
    mem = data.get("memory") or {}
    for kind in ("guarantee", "limit"):
        if kind in cpu:
            override[f"cpu_{kind}"] = _number(path, f"cpu.{kind}", cpu[kind], LIMITS["cpu"])
        if kind in mem:
            override[f"mem_{kind}"] = _memory(path, f"memory.{kind}", mem[kind])
    if "guarantee" in cpu and "limit" in cpu and cpu["guarantee"] > cpu["limit"]:
        raise ProfileError(path, "cpu.guarantee", "is more than cpu.limit")
    gpu = data.get("gpu")
    if gpu:
        count = int(_number(path, "gpu.count", gpu.get("count"), LIMITS["gpu"], integer=True))
        resource = gpu.get("resource", "nvidia.com/gpu")
        override["extra_resource_limits"] = {resource: str(count)}
        override["extra_resource_guarantees"] = {resource: str(count)}
    if data.get("node_selector") is not None:
        if not isinstance(data["node_selector"], dict):
            raise ProfileError(path, "node_selector", "must be a mapping of label: value")
        override["node_selector"] = data["node_selector"]
    if data.get("tolerations") is not None:
        if not isinstance(data["tolerations"], list):
            raise ProfileError(path, "tolerations", "must be a list")
        override["tolerations"] = data["tolerations"]
    groups = data.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ProfileError(path, "groups", "must be a list of JupyterHub group names")
    profile: dict[str, Any] = {
        "slug": data["slug"],
        "display_name": data["display_name"],
        "description": str(data.get("description", "")),
        "default": bool(data.get("default", False)),
        "kubespawner_override": override,
        "fermi": {
            "groups": groups,
            "mounts": _mounts(path, data.get("mounts")),
            "gpu": gpu or None,
        },
    }
    if data.get("profile_options"):
        profile["profile_options"] = data["profile_options"]
    return profile


def load_profiles(folder: Path) -> list[dict[str, Any]]:
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise ProfileError(Path(folder), "(folder)", "has no *.yaml profiles")
    profiles = [load_profile(f) for f in files]
    slugs = [p["slug"] for p in profiles]
    dup = {s for s in slugs if slugs.count(s) > 1}
    if dup:
        raise ProfileError(
            Path(folder), "slug", f"used by more than one file: {', '.join(sorted(dup))}"
        )
    return profiles


def check_options(profile: dict[str, Any], options: dict[str, Any]) -> list[tuple[str, str]]:
    """Submitted profile options → ``(field, message)`` for each refused one: a listed choice
    must exist, a free-form one must be enabled, short and match its ``validation_regex``."""
    errors = []
    slug = profile["slug"]
    for name, option in (profile.get("profile_options") or {}).items():
        field = f"profile-option-{slug}--{name}"
        label = option.get("display_name", name)
        choice, free = options.get(name), options.get(f"{name}--unlisted-choice")
        if any(v is not None and not isinstance(v, str) for v in (choice, free)):
            errors.append((field, msg("{label}: must be a string", label=label)))
            continue
        if choice is not None and choice not in (option.get("choices") or {}) and not free:
            errors.append(
                (
                    field,
                    msg(
                        "{label}: {choice} is not one of the choices",
                        label=label,
                        choice=repr(choice[:40]),
                    ),
                )
            )
        if free:
            unlisted = option.get("unlisted_choice") or {}
            regex = unlisted.get("validation_regex")
            if not unlisted.get("enabled"):
                errors.append(
                    (field, msg("{label}: only the listed choices are allowed", label=label))
                )
            elif len(free) > 255 or (regex and not re.fullmatch(regex, free)):
                hint = unlisted.get("validation_regex_error") or f"must match {regex}"
                errors.append((field, f"{label}: {hint}"))
    return errors


def visible_to(
    profiles: list[dict[str, Any]], groups: set[str], admin: bool = False
) -> list[dict[str, Any]]:
    """Profiles limited to hub groups are shown (and accepted) only for their members."""

    def limited_to(p: dict[str, Any]) -> set[str]:
        return set((p.get("fermi") or {}).get("groups") or [])

    return [p for p in profiles if admin or not limited_to(p) or groups & limited_to(p)]
