"""/api/v1/transfers (downloads, uploads, imports) and /api/v1/credentials (named secrets)."""

from __future__ import annotations

from typing import Any

from .. import credentials as creds
from ..serialize import iso
from ..transfers import manager as mgr
from ..transfers.models import Transfer
from .base import BaseHandler

STATES = ("pending", "running", "complete", "failed", "cancelled")


def transfer_json(t: Transfer) -> dict[str, Any]:
    spec = t.spec or {}
    return {
        "id": t.id,
        "name": t.name,
        "owner": t.owner,
        "direction": t.direction,
        "tool": t.tool,
        "source": spec.get("source"),
        "sink": spec.get("sink"),
        "policy": spec.get("policy"),
        "dataset": spec.get("dataset"),
        "state": t.state,
        "reason": t.reason,
        "error": t.error,
        "conditions": t.conditions or [],
        "attempts": len(t.attempts or []),
        "attempt_history": t.attempts or [],
        "progress": {
            "files_done": t.files_done,
            "bytes_done": t.bytes_done,
            "files_total": t.files_total,
            "bytes_total": t.bytes_total,
        },
        "result": t.result,
        "version": t.version_ref,
        "job_id": t.job_id,
        "created_at": iso(t.created_at),
        "finished_at": iso(t.finished_at),
    }


class TransfersHandler(BaseHandler):
    def get(self) -> None:
        limit, cursor = self.page_args()
        rows, nxt = mgr.list_(
            self.db,
            self.identity,
            state=self.arg("state"),
            volume_id=self.arg("volume_id"),
            limit=limit,
            cursor=cursor,
        )
        self.write_json({"items": [transfer_json(t) for t in rows], "next_cursor": nxt})

    def post(self) -> None:
        t = mgr.create(
            self.db,
            self.ctx.runner,
            self.ctx.layout,
            self.identity,
            self.json_body(),
            allow_loopback=self.ctx.transfer_allow_loopback,
        )
        self.set_header("Location", f"{self.ctx.base_path}api/v1/transfers/{t.id}")
        self.write_json(transfer_json(t), status=202)


class TransferHandler(BaseHandler):
    def get(self, transfer_id: str) -> None:
        self.write_json(transfer_json(mgr.get(self.db, self.identity, transfer_id)))

    def delete(self, transfer_id: str) -> None:
        """Cancel: the running attempt is killed and its staging folder removed."""
        t = mgr.get(self.db, self.identity, transfer_id)
        self.write_json(
            transfer_json(mgr.cancel(self.db, self.ctx.runner, self.identity, t)), status=202
        )


class TransferLogHandler(BaseHandler):
    def get(self, transfer_id: str) -> None:
        t = mgr.get(self.db, self.identity, transfer_id)
        try:
            offset = int(self.get_argument("offset", "0"))
        except ValueError:
            offset = 0
        self.write_json(mgr.read_log(self.ctx.layout, t, offset))


class CredentialsHandler(BaseHandler):
    def get(self) -> None:
        self.write_json(
            {"items": [creds.credential_json(c) for c in creds.list_(self.db, self.identity)]}
        )

    def post(self) -> None:
        c = creds.create(self.db, self.ctx.vault, self.identity, self.json_body())
        self.write_json(creds.credential_json(c), status=201)


class CredentialHandler(BaseHandler):
    def delete(self, name: str) -> None:
        creds.delete(self.db, self.identity, name)
        self.set_status(204)
        self.finish()
