"""The mount contract: one type for "what a server mounts where", its ``FERMI_MOUNTS`` JSON,
and where its files live in the storage root.

Everyone uses this module: the spawners build ``Mount`` values from the registry's answers
(``spawner/plan.py``) and hand them to the server as ``FERMI_MOUNTS``; the server extension,
the CLI and the magics read them back (``fermi_jupyter/mounts.py``); the registry records which
versions a server mounts. The rules for mount *paths* and whole plans are in
``domain/mount_rules.py``. To add a field to a mount, change this module (and its JSON schema
below, which the server extension's OpenAPI document embeds).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1
MAX_MOUNTS = 16  # per server; the registry's mount records use the same bound
MAX_PATH = 255  # characters of a mount path


class MountKind(str, Enum):
    dataset = "dataset"
    volume = "volume"


class MountFormatError(ValueError):
    """A ``FERMI_MOUNTS`` value that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class Mount:
    """One entry of a server's mount plan.

    ``source`` is the folder relative to the storage root (``datasets/<ds>/<N>``,
    ``volumes/<vol>[/<sub>]``); the hub needs it to build the sandbox or the pod, the server
    never does, so ``FERMI_MOUNTS`` leaves it (and ``zone``) out. ``extra`` keeps keys a newer
    hub wrote that this version does not know, so a round trip loses nothing.
    """

    kind: MountKind
    mount_path: str
    read_only: bool
    source: str = ""
    zone: str | None = None
    dataset_id: str | None = None
    dataset_name: str | None = None
    dataset_owner: str | None = None
    version: int | None = None
    volume_id: str | None = None
    volume_name: str | None = None
    sub_path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", MountKind(self.kind))
        if self.kind is MountKind.dataset and not self.read_only:
            # the one rule no caller can bend: a dataset is never writable
            object.__setattr__(self, "read_only", True)

    @property
    def ref(self) -> str | None:
        """``ds-…@N`` for a dataset mount (what lineage and mount records use)."""
        if self.kind is MountKind.dataset and self.dataset_id and self.version:
            return f"{self.dataset_id}@{self.version}"
        return None

    @property
    def name(self) -> str:
        """What people read: ``imagenet@3`` or the volume's name."""
        if self.kind is MountKind.dataset:
            return f"{self.dataset_name or self.dataset_id}@{self.version}"
        return self.volume_name or self.volume_id or "?"

    def to_json(self, *, for_server: bool = True) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        data["kind"] = self.kind.value
        data["ref"] = self.ref
        if self.kind is MountKind.dataset:
            data["read_only"] = True  # whatever happened to this object since it was made
        if for_server:
            data.pop("source")
            data.pop("zone")
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Mount:
        if not isinstance(item, Mapping):
            raise MountFormatError("each mount must be a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        extra = {k: v for k, v in item.items() if k not in known and k != "ref"}
        values = {k: v for k, v in item.items() if k in known}
        missing = [k for k in ("kind", "mount_path", "read_only") if k not in values]
        if missing:
            raise MountFormatError(f"a mount is missing {', '.join(missing)}")
        _check_types(values)
        if values["kind"] == MountKind.dataset.value and values["read_only"] is not True:
            # a plan saying otherwise was not written by a spawner: refuse it, do not mend it
            raise MountFormatError(f"dataset mount {values['mount_path']} is not read-only")
        try:
            return cls(**values, extra=extra)
        except ValueError as e:  # an unknown kind
            raise MountFormatError(str(e)) from None

    def replace(self, **changes: Any) -> Mount:
        return Mount(**{**asdict(self), **changes})


_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "mount_path": (str,),
    "read_only": (bool,),
    "source": (str,),
    "zone": (str, type(None)),
    "dataset_id": (str, type(None)),
    "dataset_name": (str, type(None)),
    "dataset_owner": (str, type(None)),
    "version": (int, type(None)),
    "volume_id": (str, type(None)),
    "volume_name": (str, type(None)),
    "sub_path": (str,),
}


def _check_types(values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        ok = _TYPES[key]
        if not isinstance(value, ok) or (key == "version" and isinstance(value, bool)):
            raise MountFormatError(f"mount field {key!r} has the wrong type")


# -- FERMI_MOUNTS ---------------------------------------------------------------------------
def encode(mounts: Iterable[Mount]) -> str:
    """The ``FERMI_MOUNTS`` value handed to a server."""
    return json.dumps(
        {"version": SCHEMA_VERSION, "mounts": [m.to_json() for m in mounts]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(raw: str) -> list[Mount]:
    """Read ``FERMI_MOUNTS``. Accepts the bare list that servers started before the versioned
    format received; refuses a newer major version rather than guessing."""
    raw = (raw or "").strip()
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise MountFormatError(f"FERMI_MOUNTS is not JSON ({e})") from None
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise MountFormatError(
                f"FERMI_MOUNTS has format version {version!r}; this fermi_jupyter reads "
                f"version {SCHEMA_VERSION}: upgrade fermi_jupyter in the server image"
            )
        items = data.get("mounts")
        if not isinstance(items, list):
            raise MountFormatError("FERMI_MOUNTS has no list of mounts")
    else:
        raise MountFormatError("FERMI_MOUNTS must be a JSON object")
    if len(items) > MAX_MOUNTS:
        raise MountFormatError(f"FERMI_MOUNTS lists {len(items)} mounts; at most {MAX_MOUNTS}")
    return [Mount.from_json(item) for item in items]


# -- where the files are --------------------------------------------------------------------
def dataset_source(dataset_id: str, number: int) -> str:
    """A snapshot version's folder, relative to the storage root."""
    return f"datasets/{dataset_id}/{number}"


def volume_source(volume_id: str, sub_path: str = "") -> str:
    """A volume's folder (or a folder inside it), relative to the storage root."""
    sub = sub_path.strip("/")
    return f"volumes/{volume_id}" + (f"/{sub}" if sub else "")


JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "mount_path", "read_only"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in MountKind]},
        "mount_path": {"type": "string", "maxLength": MAX_PATH},
        "read_only": {"type": "boolean"},
        "dataset_id": {"type": ["string", "null"]},
        "dataset_name": {"type": ["string", "null"]},
        "dataset_owner": {"type": ["string", "null"]},
        "version": {"type": ["integer", "null"]},
        "ref": {"type": ["string", "null"]},
        "volume_id": {"type": ["string", "null"]},
        "volume_name": {"type": ["string", "null"]},
        "sub_path": {"type": "string"},
    },
    "additionalProperties": True,
}
