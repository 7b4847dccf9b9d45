"""Transfer and credential verbs, in the client's two faces: ``TransferEndpoints`` (one request
each, through ``_send``, so the sync and async clients share them) and ``wait_transfer`` for
the sync client."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .calls import Call, q
from .errors import FermiError
from .models import Model, Progress

FINISHED = ("complete", "failed", "cancelled")


@dataclass
class Transfer(Model):
    id: str = ""
    name: str | None = None
    direction: str = ""
    tool: str = ""
    state: str = "pending"
    reason: str | None = None
    error: str | None = None
    attempts: int = 0
    conditions: list[dict[str, Any]] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    result: dict[str, Any] | None = None
    version: str | None = None
    created_at: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transfer:
        t = super().from_json(data)
        if isinstance(t.progress, dict):
            t.progress = Progress.from_json(t.progress)
        return t

    @property
    def done(self) -> bool:
        return self.state in FINISHED


class TransferFailed(FermiError):
    """A transfer ended failed or cancelled; ``reason`` says why (e.g. unauthorized)."""


def _transfers(data: Any) -> list[Transfer]:
    return [Transfer.from_json(t) for t in data["items"]]


class TransferEndpoints:
    _send: Callable[[Call], Any]

    def transfer(self, transfer_id: str) -> Transfer:
        return self._send(Call("GET", f"/transfers/{q(transfer_id)}", parse=Transfer.from_json))

    def transfers_page(
        self,
        *,
        state: str | None = None,
        volume_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Any:
        params = {"state": state, "volume_id": volume_id, "limit": limit, "cursor": cursor}
        return self._send(Call("GET", "/transfers", params))

    def start_transfer(
        self,
        source: dict[str, Any],
        sink: dict[str, Any],
        *,
        policy: dict[str, Any] | None = None,
        dataset: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> Transfer:
        """A download, upload or import (fields: docs/user/transfers.md)."""
        body: dict[str, Any] = {"source": source, "sink": sink}
        for key, value in (("policy", policy), ("dataset", dataset), ("name", name)):
            if value is not None:
                body[key] = value
        return self._send(Call("POST", "/transfers", json=body, parse=Transfer.from_json))

    def cancel_transfer(self, transfer_id: str) -> Transfer:
        return self._send(Call("DELETE", f"/transfers/{q(transfer_id)}", parse=Transfer.from_json))

    def transfer_log(self, transfer_id: str, offset: int = 0) -> Any:
        return self._send(Call("GET", f"/transfers/{q(transfer_id)}/log", {"offset": offset}))

    def credentials(self) -> Any:
        """Your credentials' names, types and set fields (never a value)."""
        return self._send(Call("GET", "/credentials", parse=lambda d: d["items"]))

    def create_credential(self, name: str, type: str, **values: str) -> Any:
        body = {"name": name, "type": type, **values}
        return self._send(Call("POST", "/credentials", json=body))

    def delete_credential(self, name: str) -> Any:
        return self._send(Call("DELETE", f"/credentials/{q(name)}"))


class TransfersMixin(TransferEndpoints):
    """The sync client's extras: every transfer, and waiting for one."""

    def transfers(
        self, *, state: str | None = None, volume_id: str | None = None, limit: int | None = None
    ) -> list[Transfer]:
        out: list[Transfer] = []
        cursor = None
        while True:
            page = self.transfers_page(state=state, volume_id=volume_id, cursor=cursor)
            out += _transfers(page)
            cursor = page.get("next_cursor")
            if not cursor or (limit is not None and len(out) >= limit):
                return out[:limit] if limit is not None else out

    def wait_transfer(
        self,
        transfer_id: str,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_progress: Callable[[Transfer], None] | None = None,
    ) -> Transfer:
        """Poll until the transfer ends; raise :class:`TransferFailed` unless it is complete."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            t = self.transfer(transfer_id)
            if on_progress:
                on_progress(t)
            if t.state == "complete":
                return t
            if t.state in FINISHED:
                raise TransferFailed(
                    f"transfer {t.id} {t.state}: {t.error or 'no reason given'}",
                    reason=t.reason or t.state,
                )
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(f"transfer {t.id} is still {t.state}", reason="timeout")
            time.sleep(poll)
