"""What a user may choose for a server's storage, and nothing more.

``user_options["storage"]`` holds only *choices* — dataset references and versions, volume ids,
mount paths, access — never where files live. Every start turns the choices into a mount plan
again through the registry, as the user (``mixin.py``). Choices arrive two ways, and both are
read strictly here: form fields (``from_form``) and the JSON body of a REST start
(``from_options``). Anything the form could not have produced is refused, with the field named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..domain.ids import ID_RE
from ..domain.mount_rules import PlanError, PlanErrors
from ..domain.mounts import MAX_MOUNTS, MAX_PATH
from ..domain.refs import ALIAS_RE
from ..i18n import msg

MAX_REF = 300  # owner/name: two names of at most 128 characters, and a little room
VOLUME_TYPES = ("ssd", "hdd", "shared")
VERSION_RE = re.compile(r"^(latest|\d{1,9})$")


@dataclass(frozen=True)
class DatasetChoice:
    ref: str
    version: str = "latest"
    path: str = ""


@dataclass(frozen=True)
class VolumeChoice:
    volume_id: str
    path: str = ""
    read_only: bool = False


@dataclass(frozen=True)
class NewVolume:
    """A volume to create before starting (the form only; REST callers use the registry)."""

    name: str
    size: str = "100Gi"
    type: str = "ssd"
    path: str = ""


@dataclass
class StorageChoices:
    datasets: list[DatasetChoice] = field(default_factory=list)
    volumes: list[VolumeChoice] = field(default_factory=list)
    new_volume: NewVolume | None = None

    def to_json(self) -> dict[str, Any]:
        """What ``user_options["storage"]`` keeps (a new volume is a volume choice by then)."""
        return {
            "datasets": [asdict(d) for d in self.datasets],
            "volumes": [asdict(v) for v in self.volumes],
        }

    def count(self) -> int:
        return len(self.datasets) + len(self.volumes) + (1 if self.new_volume else 0)


# -- the form ---------------------------------------------------------------------------------
def _column(form: Mapping[str, list[str]], key: str) -> list[str]:
    return [str(v).strip() for v in form.get(key, [])]


def _at(values: list[str], i: int, default: str = "") -> str:
    return values[i] if i < len(values) and values[i] else default


def from_form(form: Mapping[str, list[str]]) -> StorageChoices:
    """Form fields → choices; rows left empty are ignored. Raises ``PlanErrors`` naming the row."""
    out = StorageChoices()
    errors: list[PlanError] = []
    refs, versions, paths = (
        _column(form, k) for k in ("dataset_ref", "dataset_version", "dataset_path")
    )
    for i, ref in enumerate(refs):
        if not ref:
            continue
        version = _at(versions, i, "latest")
        try:
            out.datasets.append(DatasetChoice(_ref(ref), _version(version), _at(paths, i)))
        except ValueError as e:
            errors.append(PlanError(f"datasets.{i}", e.args[0]))
    ids, vpaths, modes = (_column(form, k) for k in ("volume_id", "volume_path", "volume_mode"))
    for i, vid in enumerate(ids):
        if not vid:
            continue
        mode = _at(modes, i, "rw")
        try:
            if mode not in ("rw", "ro"):
                raise ValueError(msg("access is read-write (rw) or read-only (ro)"))
            out.volumes.append(VolumeChoice(_volume_id(vid), _at(vpaths, i), mode == "ro"))
        except ValueError as e:
            errors.append(PlanError(f"volumes.{i}", e.args[0]))
    name = _at(_column(form, "new_volume_name"), 0)
    if name:
        kind = _at(_column(form, "new_volume_type"), 0, "ssd")
        if kind not in VOLUME_TYPES:
            errors.append(
                PlanError(
                    "new_volume", msg("type is one of {types}", types=", ".join(VOLUME_TYPES))
                )
            )
        out.new_volume = NewVolume(
            name[:MAX_REF],
            _at(_column(form, "new_volume_size"), 0, "100Gi")[:40],
            kind,
            _at(_column(form, "new_volume_path"), 0),
        )
    if out.count() > MAX_MOUNTS:
        errors.insert(0, _too_many(out.count()))
    if errors:
        raise PlanErrors(errors)
    return out


# -- the JSON of a REST start -------------------------------------------------------------------
DATASET_KEYS = {"ref", "version", "path"}
VOLUME_KEYS = {"volume_id", "path", "read_only"}


def from_options(storage: Any, where: str = "user_options.storage") -> StorageChoices:
    """``user_options["storage"]`` → choices, refusing what the form could not have produced."""
    if storage is None:
        return StorageChoices()
    if not isinstance(storage, Mapping):
        raise PlanErrors([PlanError(where, msg("must be an object with 'datasets' and 'volumes'"))])
    unknown = sorted(set(storage) - {"datasets", "volumes"})
    if unknown:
        raise PlanErrors([_unknown(where, unknown, {"datasets", "volumes"})])
    datasets, volumes = storage.get("datasets"), storage.get("volumes")
    datasets, volumes = ([] if x is None else x for x in (datasets, volumes))
    for key, items in (("datasets", datasets), ("volumes", volumes)):
        if not isinstance(items, list):
            raise PlanErrors([PlanError(f"{where}.{key}", msg("must be a list"))])
    if len(datasets) + len(volumes) > MAX_MOUNTS:  # before reading any of them
        raise PlanErrors([_too_many(len(datasets) + len(volumes))])
    out = StorageChoices()
    errors: list[PlanError] = []
    for i, item in enumerate(datasets):
        at = f"{where}.datasets.{i}"
        try:
            _keys(at, item, DATASET_KEYS, {"read_only": msg("a dataset is always read-only")})
            version = item.get("version", "latest")
            if isinstance(version, int) and not isinstance(version, bool):
                version = str(version)
            out.datasets.append(
                DatasetChoice(
                    _ref(_string(at, "ref", item.get("ref"), MAX_REF)),
                    _version(_string(at, "version", version, 64)),
                    _string(at, "path", item.get("path", ""), MAX_PATH * 4, empty=True),
                )
            )
        except (PlanError, ValueError) as e:
            errors.append(e if isinstance(e, PlanError) else PlanError(at, e.args[0]))
    for i, item in enumerate(volumes):
        at = f"{where}.volumes.{i}"
        try:
            _keys(at, item, VOLUME_KEYS, {"sub_path": msg("a volume is mounted whole")})
            read_only = item.get("read_only", False)
            if not isinstance(read_only, bool):
                raise PlanError(f"{at}.read_only", msg("must be true or false"))
            out.volumes.append(
                VolumeChoice(
                    _volume_id(_string(at, "volume_id", item.get("volume_id"), 64)),
                    _string(at, "path", item.get("path", ""), MAX_PATH * 4, empty=True),
                    read_only,
                )
            )
        except (PlanError, ValueError) as e:
            errors.append(e if isinstance(e, PlanError) else PlanError(at, e.args[0]))
    if errors:
        raise PlanErrors(errors)
    return out


def lenient(storage: Any) -> tuple[StorageChoices, bool]:
    """Remembered choices for pre-filling a form: ``(choices, True)`` when they read cleanly,
    ``(empty, False)`` when they do not (e.g. a refused REST body stored by the hub)."""
    try:
        return from_options(storage), True
    except PlanErrors:
        return StorageChoices(), False


# -- field rules --------------------------------------------------------------------------------
def _keys(at: str, item: Any, allowed: set[str], hints: dict[str, str]) -> None:
    if not isinstance(item, Mapping):
        raise PlanError(at, msg("must be an object"))
    unknown = sorted(set(item) - allowed)
    if unknown:
        hint = next((hints[k] for k in unknown if k in hints), "")
        raise _unknown(at, unknown, allowed, hint)


def _unknown(at: str, keys: list[str], allowed: set[str], hint: str = "") -> PlanError:
    names = ", ".join(repr(str(k)[:40]) for k in keys[:5])
    allowed_text = ", ".join(sorted(allowed))
    if hint:
        return PlanError(
            at,
            msg(
                "unknown key {keys}; allowed: {allowed} ({hint})",
                keys=names,
                allowed=allowed_text,
                hint=hint,
            ),
        )
    return PlanError(
        at, msg("unknown key {keys}; allowed: {allowed}", keys=names, allowed=allowed_text)
    )


def _string(at: str, key: str, value: Any, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{at}.{key}", msg("must be a string"))
    if len(value) > limit:
        raise PlanError(f"{at}.{key}", msg("is longer than {n} characters", n=limit))
    if not empty and not value.strip():
        raise PlanError(f"{at}.{key}", msg("is required"))
    return value.strip()


def _ref(ref: str) -> str:
    if len(ref) > MAX_REF or any(ord(ch) < 32 or ord(ch) == 127 for ch in ref):
        raise ValueError(msg("not a dataset name, owner/name or id"))
    return ref


def _version(version: str) -> str:
    version = version or "latest"
    if not (VERSION_RE.match(version) or ALIAS_RE.match(version)):
        raise ValueError(
            msg(
                "version {version} is not a number (at most 9 digits), 'latest' or an alias",
                version=repr(version[:20]),
            )
        )
    return version


def _volume_id(vid: str) -> str:
    if not ID_RE.match(vid) or not vid.startswith("vol-"):
        raise ValueError(msg("{id} is not a volume id (vol-…)", id=repr(vid[:40])))
    return vid


def _too_many(n: int) -> PlanError:
    return PlanError(
        "mounts", msg("{n} mounts asked; at most {max} per server", n=n, max=MAX_MOUNTS)
    )
