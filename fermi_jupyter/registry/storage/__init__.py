"""The storage engine: confined paths, snapshots into a de-duplicating object store,
BLAKE3 manifests, verify, restore, browsing, giving space back. No database, no HTTP: the job
runner calls it from its threads, and it does the per-file work in worker processes
(pool.py). docs/reference/manifest.md describes the manifest and the digests."""

from .creds import Reader
from .errors import Cancelled, PathRefused, StorageError
from .gc import SweepReport, cleanup_partial, reap, remove_version, sweep
from .layout import StorageLayout
from .listing import DirEntry, disk_usage, list_dir
from .manifest import ManifestEntry, iter_manifest, read_manifest, version_digest
from .paths import confine
from .progress import Progress, ProgressFn
from .restore import restore
from .results import Result, VerifyReport
from .scan import scan
from .snapshot import snapshot
from .space import SpaceEstimate, estimate_space
from .verify import verify

__all__ = [
    "Cancelled",
    "DirEntry",
    "ManifestEntry",
    "PathRefused",
    "Progress",
    "ProgressFn",
    "Reader",
    "Result",
    "SpaceEstimate",
    "StorageError",
    "StorageLayout",
    "SweepReport",
    "VerifyReport",
    "cleanup_partial",
    "confine",
    "disk_usage",
    "estimate_space",
    "iter_manifest",
    "list_dir",
    "read_manifest",
    "reap",
    "remove_version",
    "restore",
    "scan",
    "snapshot",
    "sweep",
    "verify",
    "version_digest",
]
