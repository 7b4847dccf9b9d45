"""Server-sent events: parsing the registry's stream and writing frames for the browser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Event:
    id: str | None
    type: str
    data: dict[str, Any]

    def frame(self) -> str:
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.type}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n"


async def parse(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Events from the lines of a stream; comments and data that is not a JSON object are
    skipped (the registry only sends objects)."""
    event_id: str | None = None
    kind = ""
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                try:
                    body = json.loads("\n".join(data))
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    yield Event(event_id, kind or "message", body)
            event_id, kind, data = None, "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
        elif name == "event":
            kind = value
