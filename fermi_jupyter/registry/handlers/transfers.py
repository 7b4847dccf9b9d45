"""/api/v1/transfers (downloads, uploads, imports) and /api/v1/credentials (named secrets)."""

from __future__ import annotations

from typing import Any

from .. import bodies
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
        # (``log_lines`` is the registry's own bookkeeping: which pod log lines it logged)
        "attempt_history": [
            {k: v for k, v in a.items() if k != "log_lines"} for a in t.attempts or []
        ],
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
    async def get(self) -> None:
        limit, cursor = self.page_args()
        who, state, volume_id = self.identity, self.arg("state"), self.arg("volume_id")

        def page(db):  # type: ignore[no-untyped-def]
            rows, nxt = mgr.list_(
                db, who, state=state, volume_id=volume_id, limit=limit, cursor=cursor
            )
            return {"items": [transfer_json(t) for t in rows], "next_cursor": nxt}

        self.write_json(await self.call(page))

    async def post(self) -> None:
        body, who, ctx = bodies.parse_object(self.request.body), self.identity, self.ctx
        t = await self.call(
            lambda db: transfer_json(
                mgr.create(
                    db,
                    ctx.runner,
                    ctx.layout,
                    who,
                    body,
                    allow_loopback=ctx.transfer_allow_loopback,
                )
            )
        )
        self.set_header("Location", f"{ctx.base_path}api/v1/transfers/{t['id']}")
        self.write_json(t, status=202)


class TransferHandler(BaseHandler):
    async def get(self, transfer_id: str) -> None:
        who = self.identity
        self.write_json(await self.call(lambda db: transfer_json(mgr.get(db, who, transfer_id))))

    async def delete(self, transfer_id: str) -> None:
        """Cancel: the running attempt is killed and its staging folder removed."""
        who, runner = self.identity, self.ctx.runner

        def cancel(db):  # type: ignore[no-untyped-def]
            return transfer_json(mgr.cancel(db, runner, who, mgr.get(db, who, transfer_id)))

        self.write_json(await self.call(cancel), status=202)


class TransferLogHandler(BaseHandler):
    async def get(self, transfer_id: str) -> None:
        who, layout = self.identity, self.ctx.layout
        try:
            offset = max(0, int(self.get_argument("offset", "0")))
        except ValueError:
            offset = 0
        self.write_json(
            await self.call(lambda db: mgr.read_log(layout, mgr.get(db, who, transfer_id), offset))
        )


class CredentialsHandler(BaseHandler):
    async def get(self) -> None:
        who = self.identity
        self.write_json(
            await self.call(
                lambda db: {"items": [creds.credential_json(c) for c in creds.list_(db, who)]}
            )
        )

    async def post(self) -> None:
        body, who, vault = bodies.parse_object(self.request.body), self.identity, self.ctx.vault
        c = await self.call(lambda db: creds.credential_json(creds.create(db, vault, who, body)))
        self.write_json(c, status=201)


class CredentialHandler(BaseHandler):
    async def delete(self, name: str) -> None:
        who = self.identity
        await self.call(lambda db: creds.delete(db, who, name))
        self.set_status(204)
        self.finish()
