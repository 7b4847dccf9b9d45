"""Tables of transfers and credentials (on the registry's one ``Base``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..orm import Base, utcnow


class Credential(Base):
    """A user's named secret, encrypted with the registry's key; never returned by the API."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))  # git | huggingface | s3
    ciphertext: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # which fields are set
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transfer(Base):
    """One download, upload or import: the spec (no secret in it), its state and conditions,
    one record per attempt. Runs as a ``transfer`` job."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(16))  # download | upload
    tool: Mapped[str] = mapped_column(String(16))  # git | huggingface | s3
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="SET NULL"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    volume_id: Mapped[str | None] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    files_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    files_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version_ref: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
