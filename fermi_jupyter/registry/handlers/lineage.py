"""/api/v1/datasets/{ref}/versions/{selector}/diff and …/lineage (read-only)."""

from __future__ import annotations

from ..errors import BadRequest
from ..managers import lineage as mgr
from .versions import VersionsBase


class DiffHandler(VersionsBase):
    def get(self, ref: str, selector: str) -> None:
        target = self.version(ref, selector)
        base = mgr.against(self.db, self.identity, target.dataset, self.get_argument("against", ""))
        raw = self.get_argument("limit", None) or "1000"
        if not raw.isdigit():
            raise BadRequest(f"limit must be a whole number, not {raw!r}")
        limit = int(raw[:6])
        self.write_json(mgr.diff(self.ctx.layout, base, target, limit))


class LineageHandler(VersionsBase):
    def get(self, ref: str, selector: str) -> None:
        self.write_json(mgr.lineage(self.db, self.identity, self.version(ref, selector)))
