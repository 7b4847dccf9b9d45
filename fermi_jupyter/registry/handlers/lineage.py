"""/api/v1/datasets/{ref}/versions/{selector}/diff and …/lineage (read-only)."""

from __future__ import annotations

from ..errors import BadRequest, Reason
from ..managers import lineage as mgr
from .versions import VersionsBase


class DiffHandler(VersionsBase):
    async def get(self, ref: str, selector: str) -> None:
        who, layout = self.identity, self.ctx.layout
        against = self.get_argument("against", "")
        raw = self.get_argument("limit", None) or "1000"
        if not (raw.isascii() and raw.isdigit()):
            raise BadRequest(
                f"limit must be a whole number, not {raw!r}", reason=Reason.invalid_query
            )
        limit = int(raw[:6])

        def diff(db):  # type: ignore[no-untyped-def]
            target = self.version(db, ref, selector)
            base = mgr.against(db, who, target.dataset, against)
            return mgr.diff(layout, base, target, limit)

        self.write_json(await self.call(diff))


class LineageHandler(VersionsBase):
    async def get(self, ref: str, selector: str) -> None:
        who = self.identity
        self.write_json(
            await self.call(lambda db: mgr.lineage(db, who, self.version(db, ref, selector)))
        )
