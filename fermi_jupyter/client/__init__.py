"""The Python client of the fermi registry: ``RegistryClient`` (sync) and
``AsyncRegistryClient`` (async), one set of verbs with two faces."""

from .aio import AsyncRegistryClient
from .errors import (
    BadRequest,
    Conflict,
    FermiError,
    Forbidden,
    NotFound,
    RegistryUnavailable,
    Unauthorized,
    VersionFailed,
)
from .models import Dataset, Job, ManifestEntry, Page, Progress, TreeEntry, Version, Volume
from .registry import RegistryClient
from .transfers import Transfer, TransferFailed

__all__ = [
    "AsyncRegistryClient",
    "BadRequest",
    "Conflict",
    "Dataset",
    "FermiError",
    "Forbidden",
    "Job",
    "ManifestEntry",
    "NotFound",
    "Page",
    "Progress",
    "RegistryClient",
    "RegistryUnavailable",
    "Transfer",
    "TransferFailed",
    "TreeEntry",
    "Unauthorized",
    "Version",
    "VersionFailed",
    "Volume",
]
