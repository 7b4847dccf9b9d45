"""Transfers (downloads, uploads, imports) and credentials, for the sidebar's forms and list.

Each verb checks its input here (one sentence naming the field), then asks the registry as this
server's owner. A credential's value goes to the registry once and is never answered back: the
registry answers names, types and which fields are set, and so does this module.
"""

from __future__ import annotations

from typing import Any

from . import bodies, checks
from .base import Json, ManagerBase
from .errors import WorkspaceError
from .reasons import Reason
from .transfer_shapes import PLACE_OF, SINK_TYPES, SOURCE_TYPES, STATES

CREDENTIAL_FIELDS = ("name", "type", "fields", "created_at")


def _place(body: Json, key: str, allowed: list[str]) -> None:
    """``source``/``sink`` checked against the schema its ``type`` names."""
    part = body.get(key)
    if not isinstance(part, dict):
        raise WorkspaceError(f"{key} must be a JSON object", Reason.invalid_parameter)
    kind = part.get("type")
    if kind not in allowed:
        raise WorkspaceError(
            f"{key}.type must be one of {', '.join(allowed)}", Reason.invalid_parameter
        )
    bodies.check(part, PLACE_OF[kind], at=(key,))


def transfer_id(text: str) -> str:
    if not text or len(text) > 64 or not all(c.isalnum() or c in "-_" for c in text):
        raise WorkspaceError(f"there is no transfer {text[:40]!r}", Reason.transfer_not_found)
    return text


def credential_json(c: Json) -> Json:
    """Only what a credential may show: its name, type, set fields and date."""
    return {k: c.get(k) for k in CREDENTIAL_FIELDS if k in c}


class TransferVerbs(ManagerBase):
    async def transfers(
        self,
        state: str | None = None,
        volume_id: str | None = None,
        limit: Any = None,
        cursor: str | None = None,
    ) -> Json:
        size = checks.limit(limit)
        checks.choice("state", state, STATES)
        return await self.client().page(
            "/transfers", state=state, volume_id=volume_id, limit=size, cursor=cursor
        )

    async def create_transfer(self, body: Json) -> Json:
        if not isinstance(body, dict):
            raise WorkspaceError("the request body must be a JSON object", Reason.invalid_json)
        _place(body, "source", SOURCE_TYPES)
        _place(body, "sink", SINK_TYPES)
        bodies.check(body, "TransferCreate")
        c = self.client()
        fields = {k: body[k] for k in ("policy", "dataset", "name") if k in body}
        t = await c.start_transfer(body["source"], body["sink"], **fields)
        return t.raw

    async def transfer(self, tid: str) -> Json:
        return await self.client().get_json(f"/transfers/{checks.q(transfer_id(tid))}")

    async def cancel_transfer(self, tid: str) -> Json:
        t = await self.client().cancel_transfer(transfer_id(tid))
        return t.raw

    async def transfer_log(self, tid: str, offset: Any = None) -> Json:
        try:
            start = max(0, int(offset or 0))
        except (TypeError, ValueError):
            raise WorkspaceError(
                f"offset must be a whole number, not {str(offset)[:40]!r}",
                Reason.invalid_parameter,
            ) from None
        return await self.client().transfer_log(transfer_id(tid), start)

    async def credentials(self) -> Json:
        items = await self.client().credentials()
        return {"items": [credential_json(c) for c in items]}

    async def create_credential(self, body: Json) -> Json:
        body = bodies.check(body, "CredentialCreate")
        fields = {k: v for k, v in body.items() if k not in ("name", "type")}
        c = await self.client().create_credential(body["name"], body["type"], **fields)
        return credential_json(c)

    async def delete_credential(self, name: str) -> None:
        await self.client().delete_credential(name)
