"""/api/v1/datasets/{ref}/versions/{selector}/cancel: stop a registration still running."""

from __future__ import annotations

from ..managers import cancel as mgr
from ..managers import datasets as datasets_mgr
from ..managers import versions as versions_mgr
from ..serialize import job_json
from .versions import VersionsBase


class CancelHandler(VersionsBase):
    async def post(self, ref: str, selector: str) -> None:
        who, runner = self.identity, self.ctx.runner

        def cancel(db):  # type: ignore[no-untyped-def]
            ds = datasets_mgr.resolve(db, who, ref)
            v = versions_mgr.select_version(db, ds, selector)
            return job_json(mgr.cancel(db, runner, who, ds, v), v.ref)

        self.accepted(await self.call(cancel))
