"""SQLAlchemy 2 models: volumes, datasets, versions, aliases, mounts, jobs, audit, events."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Module-level so tests can travel in time."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Volume(Base):
    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(255), index=True)
    team: Mapped[str | None] = mapped_column(String(255), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity_bytes: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(16), default="ssd")
    access_mode: Mapped[str] = mapped_column(String(32), default="ReadWriteOnce")
    zone: Mapped[str | None] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(16), default="root")  # root | pvc
    pvc_name: Mapped[str | None] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # volumes are never listed to others; "visibility" lets the shared rules apply
    visibility = "private"


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("owner", "name"),
        Index("ix_datasets_visibility_name", "visibility", "name"),
        # lists are ordered by (name, id): one index serves the order and the keyset cursor
        Index("ix_datasets_name_id", "name", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(255), index=True)
    team: Mapped[str | None] = mapped_column(String(255), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    data_type: Mapped[str] = mapped_column(String(16), default="mixed")
    description: Mapped[str] = mapped_column(Text, default="")
    zone: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # next number to hand out; bumped with one atomic UPDATE … RETURNING
    next_version: Mapped[int] = mapped_column(Integer, default=1)
    # copies for lists, kept by summary.py whenever a version's status or an alias changes:
    # a page reads them from the row instead of two subqueries a row (migration 0007)
    latest_ready: Mapped[int | None] = mapped_column(Integer)  # newest ready version
    alias_map: Mapped[dict[str, int] | None] = mapped_column(JSON)  # {alias: number}
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    versions: Mapped[list[Version]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="Version.number"
    )
    aliases: Mapped[list[Alias]] = relationship(cascade="all, delete-orphan")
    tag_rows: Mapped[list[DatasetTag]] = relationship(cascade="all, delete-orphan")


class DatasetTag(Base):
    """One row per tag, so tag filters use an index rather than scanning JSON."""

    __tablename__ = "dataset_tags"
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number"),
        # "newest ready version of these datasets", asked on every dataset list
        Index("ix_versions_dataset_status_number", "dataset_id", "status", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    mode: Mapped[str] = mapped_column(String(16), default="snapshot")
    source_volume_id: Mapped[str | None] = mapped_column(String(40))
    source_path: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    files_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    files_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    new_bytes: Mapped[int | None] = mapped_column(BigInteger)
    digest: Mapped[str | None] = mapped_column(String(80))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    phase: Mapped[str | None] = mapped_column(String(16))  # what a processing version is doing
    parents: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["ds-…@N", …]
    # where imported data came from: {"source": "huggingface:owner/repo@sha", "transfer": "tr-…"}
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")

    @property
    def ref(self) -> str:
        return f"{self.dataset_id}@{self.number}"


class Alias(Base):
    """A movable name for one version (``production`` → 3). ``latest`` is computed, not stored."""

    __tablename__ = "aliases"
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Mount(Base):
    """A dataset version mounted by a running server; deleting that version is refused."""

    __tablename__ = "mounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    server: Mapped[str] = mapped_column(String(512), index=True)  # "user" or "user/name"
    owner: Mapped[str] = mapped_column(String(255), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    mount_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """Long work with its state in the database, so a restarted registry can finish or fail it."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    files_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    files_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the worker that runs it, and when it last said so: stale ones are recovered at start-up
    worker: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # what happened to it, for people: [{"at", "event", "message"}] (jobs/history.py)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    phase: Mapped[str | None] = mapped_column(String(16))  # counting, copying, sealing, …
    crashes: Mapped[int] = mapped_column(Integer, default=0)  # registry died while running it
    failures: Mapped[int] = mapped_column(Integer, default=0)  # attempts that failed by themselves
    # every ORM update checks and bumps it: a recovering process and the worker never both win
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Event(Base):
    """The event log behind ``/api/v1/events``: every registry process appends its status
    changes and tails the others', so a subscriber anywhere sees a job that ran anywhere. The id
    is the stream's sequence number (``Last-Event-ID``); old rows are pruned."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[str | None] = mapped_column(String(40))
    # who may see it (the dataset's access fields when it happened)
    owner: Mapped[str | None] = mapped_column(String(255))
    team: Mapped[str | None] = mapped_column(String(255))
    visibility: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)  # the JSON sent to subscribers
