"""Where everything lives under the storage root."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import StorageError

VOL_RE = re.compile(r"^vol-[a-z0-9]+$")
DS_RE = re.compile(r"^ds-[a-z0-9]+$")


class StorageLayout:
    """``volumes/<vol-id>/``, ``datasets/<ds-id>/<N>/``, ``objects/``, ``manifests/``, ``tmp/``.

    Ids are checked against their pattern so no id can name a path outside the root.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def ensure(self) -> None:
        for sub in ("volumes", "datasets", "objects", "manifests", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _check(value: str, pattern: re.Pattern[str]) -> str:
        if not pattern.match(value or ""):
            raise StorageError(f"{value!r} is not a valid id", "invalid-id")
        return value

    def volume_dir(self, vol_id: str) -> Path:
        return self.root / "volumes" / self._check(vol_id, VOL_RE)

    def dataset_dir(self, ds_id: str) -> Path:
        return self.root / "datasets" / self._check(ds_id, DS_RE)

    def version_dir(self, ds_id: str, n: int) -> Path:
        return self.dataset_dir(ds_id) / str(int(n))

    def partial_dir(self, ds_id: str, n: int) -> Path:
        return self.dataset_dir(ds_id) / f".{int(n)}.partial"

    def manifest_path(self, ds_id: str, n: int) -> Path:
        return self.root / "manifests" / self._check(ds_id, DS_RE) / f"{int(n)}.tsv"

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def object_path(self, digest: str) -> Path:
        return self.objects_dir / digest[:2] / digest
