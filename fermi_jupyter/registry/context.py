"""What every handler needs, built once by the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from . import storage
from .events import EventBus
from .identity import IdentityResolver
from .jobs import JobRunner
from .managers.volumes import UsageCache
from .sessionpool import SessionPool


@dataclass
class RegistryContext:
    sessions: sessionmaker[Session]
    pool: SessionPool  # database work of requests, off the event loop
    layout: storage.StorageLayout
    runner: JobRunner
    bus: EventBus
    identities: IdentityResolver
    hub_auth: Any  # jupyterhub.services.auth.HubOAuth
    usage: UsageCache
    base_path: str = "/"
    metrics_require_auth: bool = False
    vault: Any = None  # credentials.Vault
    transfers: Any = None  # transfers.service.TransferService
    transfer_allow_loopback: bool = False
