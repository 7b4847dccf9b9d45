"""The client's transfer and credential calls (mixed into :class:`RegistryClient`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .errors import FermiError
from .models import Model, Progress


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
        return self.state in ("complete", "failed", "cancelled")


class TransferFailed(FermiError):
    """A transfer ended failed or cancelled; ``reason`` says why (e.g. unauthorized)."""


class TransfersMixin:
    request: Callable[..., Any]
    _iterate: Callable[..., Iterator[dict]]

    def transfer(self, transfer_id: str) -> Transfer:
        return Transfer.from_json(self.request("GET", f"/transfers/{quote(transfer_id, safe='')}"))

    def transfers(
        self, *, state: str | None = None, volume_id: str | None = None, limit: int | None = None
    ) -> list[Transfer]:
        params = {"state": state, "volume_id": volume_id}
        return [Transfer.from_json(t) for t in self._iterate("/transfers", params, limit)]

    def start_transfer(
        self,
        source: dict[str, Any],
        sink: dict[str, Any],
        *,
        policy: dict[str, Any] | None = None,
        dataset: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> Transfer:
        """Start a download, upload or import (see docs/user/transfers.md for the fields)."""
        body: dict[str, Any] = {"source": source, "sink": sink}
        for key, value in (("policy", policy), ("dataset", dataset), ("name", name)):
            if value is not None:
                body[key] = value
        return Transfer.from_json(self.request("POST", "/transfers", json=body))

    def cancel_transfer(self, transfer_id: str) -> Transfer:
        return Transfer.from_json(
            self.request("DELETE", f"/transfers/{quote(transfer_id, safe='')}")
        )

    def transfer_log(self, transfer_id: str, offset: int = 0) -> dict[str, Any]:
        path = f"/transfers/{quote(transfer_id, safe='')}/log"
        return self.request("GET", path, params={"offset": offset})

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
            if t.state in ("failed", "cancelled"):
                raise TransferFailed(
                    f"transfer {t.id} {t.state}: {t.error or 'no reason given'}",
                    reason=t.reason or t.state,
                )
            if deadline is not None and time.monotonic() > deadline:
                raise FermiError(f"transfer {t.id} is still {t.state}", reason="timeout")
            time.sleep(poll)

    def credentials(self) -> list[dict[str, Any]]:
        """Your credentials' names, types and set fields (never a value)."""
        return self.request("GET", "/credentials")["items"]

    def create_credential(self, name: str, type: str, **values: str) -> dict[str, Any]:
        return self.request("POST", "/credentials", json={"name": name, "type": type, **values})

    def delete_credential(self, name: str) -> None:
        self.request("DELETE", f"/credentials/{quote(name, safe='')}")
