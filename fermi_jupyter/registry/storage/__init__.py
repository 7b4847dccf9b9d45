"""The storage engine: confined paths, snapshots into a de-duplicating object store,
BLAKE3 manifests, verify, restore, browsing. No database, no HTTP: the job runner calls it
from worker threads. docs/reference/manifest.md describes the manifest and the digests."""

from .errors import Cancelled, PathRefused, StorageError
from .gc import cleanup_partial, remove_version, sweep_objects
from .layout import StorageLayout
from .listing import DirEntry, disk_usage, list_dir
from .manifest import ManifestEntry, iter_manifest, read_manifest, version_digest
from .paths import confine
from .progress import Progress, ProgressFn
from .restore import restore
from .results import Result, VerifyReport
from .scan import scan
from .snapshot import snapshot
from .verify import verify

__all__ = [
    "Cancelled",
    "DirEntry",
    "ManifestEntry",
    "PathRefused",
    "Progress",
    "ProgressFn",
    "Result",
    "StorageError",
    "StorageLayout",
    "VerifyReport",
    "cleanup_partial",
    "confine",
    "disk_usage",
    "iter_manifest",
    "list_dir",
    "read_manifest",
    "remove_version",
    "restore",
    "scan",
    "snapshot",
    "sweep_objects",
    "verify",
    "version_digest",
]
