"""Where everything lives under the storage root."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import StorageError

VOL_RE = re.compile(r"^vol-[a-z0-9]+$")
DS_RE = re.compile(r"^ds-[a-z0-9]+$")
SUBDIRS = ("volumes", "datasets", "objects", "manifests", "tmp")


class StorageLayout:
    """``volumes/<vol-id>/``, ``datasets/<ds-id>/<N>/``, ``objects/<d[:2]>/<digest>``,
    ``manifests/<ds-id>/<N>.tsv``, ``tmp/``: all on one filesystem so renames and hard links
    between them work.

    Ids are checked against their pattern, so no id can name a path outside the root.
    """

    def __init__(self, root: Path):
        # resolved once: every later open below the root refuses symlinks (fsafe.open_tree)
        self.root = Path(os.path.realpath(root))

    def ensure(self) -> None:
        for sub in SUBDIRS:
            d = self.root / sub
            d.mkdir(parents=True, exist_ok=True)
            if sub != "volumes":  # the store: only the registry writes, whatever the umask
                os.chmod(d, 0o700 if sub == "tmp" else 0o755)
        self.trash_dir.mkdir(exist_ok=True)
        if not (self.objects_dir / "ff").is_dir():  # the 256 fan-out folders; ff made last
            for i in range(256):
                (self.objects_dir / f"{i:02x}").mkdir(mode=0o755, exist_ok=True)

    @staticmethod
    def _check(value: str, pattern: re.Pattern[str], what: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise StorageError(f"{value!r} is not a valid {what} id", "invalid-id")
        return value

    @staticmethod
    def _number(n: int) -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise StorageError(f"{n!r} is not a valid version number", "invalid-id")
        return n

    def volume_dir(self, vol_id: str) -> Path:
        return self.root / "volumes" / self._check(vol_id, VOL_RE, "volume")

    def dataset_dir(self, ds_id: str) -> Path:
        return self.root / "datasets" / self._check(ds_id, DS_RE, "dataset")

    def version_dir(self, ds_id: str, n: int) -> Path:
        return self.dataset_dir(ds_id) / str(self._number(n))

    def partial_dir(self, ds_id: str, n: int) -> Path:
        return self.dataset_dir(ds_id) / f".{self._number(n)}.partial"

    def manifest_path(self, ds_id: str, n: int) -> Path:
        ds = self._check(ds_id, DS_RE, "dataset")
        return self.root / "manifests" / ds / f"{self._number(n)}.tsv"

    def version_of_manifest(self, manifest: Path | None) -> Path | None:
        """The folder of the version whose manifest is ``manifest``, if it is one of this
        store's manifests."""
        if manifest is None:
            return None
        path = Path(manifest)
        ds, stem = path.parent.name, path.name.removesuffix(".tsv")
        if path.parent.parent != self.root / "manifests" or not DS_RE.match(ds):
            return None
        if not stem.isdigit() or path.name != f"{int(stem)}.tsv" or int(stem) < 1:
            return None
        return self.version_dir(ds, int(stem))

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def object_path(self, digest: str) -> Path:
        return self.objects_dir / digest[:2] / digest

    def journal_path(self, ds_id: str, n: int) -> Path:
        """The objects a snapshot in progress has added (see objects.py)."""
        ds = self._check(ds_id, DS_RE, "dataset")
        return self.tmp_dir / f"{ds}-{self._number(n)}.objects"

    @property
    def trash_dir(self) -> Path:
        """Whatever is being removed: moved here at once, deleted in the background."""
        return self.tmp_dir / "trash"
