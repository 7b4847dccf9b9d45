"""Typed results. Built from the API's JSON; unknown fields are kept in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from ..domain.states import JOB_FINISHED, TERMINAL, JobState, VersionStatus

T = TypeVar("T", bound="Model")


@dataclass
class Model:
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in fields(cls)} - {"raw"}
        return cls(raw=data, **{k: v for k, v in data.items() if k in names})


@dataclass
class Progress(Model):
    files_done: int = 0
    files_total: int | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    rate_bytes_per_s: float | None = None  # from the server extension, which watches progress
    rate_files_per_s: float | None = None
    eta_seconds: float | None = None
    updated_at: str | None = None
    stalled_since: str | None = None

    @property
    def fraction(self) -> float | None:
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.files_total:
            return min(1.0, self.files_done / self.files_total)
        return None


@dataclass
class Volume(Model):
    id: str = ""
    name: str = ""
    owner: str = ""
    team: str | None = None
    description: str = ""
    capacity_bytes: int = 0
    type: str = ""
    type_hint: str = ""
    access_mode: str = ""
    zone: str | None = None
    backend: str = "root"
    pvc_name: str | None = None
    storage_path: str | None = None
    created_at: str | None = None
    usage: dict[str, Any] | None = None
    mount_path: str | None = None  # where this server mounts it (from the server extension)

    @property
    def used_bytes(self) -> int | None:
        return self.usage["bytes"] if self.usage else None


@dataclass
class Dataset(Model):
    id: str = ""
    name: str = ""
    owner: str = ""
    team: str | None = None
    visibility: str = "private"
    data_type: str = "mixed"
    description: str = ""
    zone: str | None = None
    tags: list[str] = field(default_factory=list)
    latest: int | None = None
    aliases: dict[str, int] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    mounted_here: list[int] = field(default_factory=list)


@dataclass
class Version(Model):
    dataset_id: str = ""
    dataset_name: str | None = None
    number: int = 0
    ref: str = ""
    status: str = "pending"
    mode: str = "snapshot"
    source: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    error: str | None = None
    progress: Progress = field(default_factory=Progress)
    files: int | None = None
    bytes: int | None = None
    new_bytes: int | None = None
    digest: str | None = None
    warnings: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    mounted: bool | None = None
    mounted_here: bool | None = None
    storage_path: str | None = None
    created_by: str = ""
    created_at: str | None = None
    ready_at: str | None = None
    verified_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Version:
        v = super().from_json(data)
        if isinstance(v.progress, dict):
            v.progress = Progress.from_json(v.progress)
        return v

    @property
    def done(self) -> bool:
        return VersionStatus(self.status) in TERMINAL | {VersionStatus.drifted}

    @property
    def label(self) -> str:
        """``name@N`` for people, ``ds-…@N`` when the name is unknown."""
        return f"{self.dataset_name}@{self.number}" if self.dataset_name else self.ref


@dataclass
class Job(Model):
    id: int = 0
    kind: str = ""
    state: str = "queued"
    version: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    progress: Progress = field(default_factory=Progress)
    created_by: str = ""
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        j = super().from_json(data)
        if isinstance(j.progress, dict):
            j.progress = Progress.from_json(j.progress)
        return j

    @property
    def done(self) -> bool:
        return JobState(self.state) in JOB_FINISHED


@dataclass
class TreeEntry(Model):
    name: str = ""
    path: str = ""
    type: str = "file"
    size: int | None = None
    mtime: float | None = None


@dataclass
class ManifestEntry(Model):
    path: str = ""
    size: int = 0
    mode: str = "644"
    digest: str = ""


@dataclass
class Page(Model):
    items: list[Any] = field(default_factory=list)
    next_cursor: str | None = None
    truncated: bool = False
