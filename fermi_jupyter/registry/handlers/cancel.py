"""/api/v1/datasets/{ref}/versions/{selector}/cancel: stop a registration still running."""

from __future__ import annotations

from ..managers import cancel as mgr
from ..managers import datasets as datasets_mgr
from ..managers import versions as versions_mgr
from .versions import VersionsBase


class CancelHandler(VersionsBase):
    def post(self, ref: str, selector: str) -> None:
        ds = datasets_mgr.resolve(self.db, self.identity, ref)
        v = versions_mgr.select_version(self.db, ds, selector)
        self.job_accepted(mgr.cancel(self.db, self.ctx.runner, self.identity, ds, v), v)
