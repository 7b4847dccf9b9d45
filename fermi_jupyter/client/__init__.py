"""The Python client of the fermi registry."""

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
