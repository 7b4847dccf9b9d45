"""A raw server-sent-events client on a plain socket, so a test controls exactly how (and
whether) it reads: receive buffer size, resets, reconnecting with Last-Event-ID."""

from __future__ import annotations

import json
import socket
import struct
from urllib.parse import urlparse


class SSEClient:
    def __init__(self, url: str, token: str, *, last_event_id: int | None = None, rcvbuf=None):
        u = urlparse(url)
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(30)
        self.sock.connect((u.hostname, u.port))
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        path = u.path + (f"?{u.query}" if u.query else "")
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: token {token}\r\n"
            f"Accept: text/event-stream\r\n{extra}\r\n".encode()
        )
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.headers = head.decode("latin-1").lower()
        self.chunked = "transfer-encoding: chunked" in self.headers
        self.raw = b""  # decoded body not yet parsed into events
        self.last_id: int | None = None

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _fill(self) -> None:
        if not self.chunked:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.raw += data
            return
        size = int(self._until(b"\r\n").split(b";")[0], 16)
        while len(self.buf) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        self.raw += self.buf[:size]
        self.buf = self.buf[size + 2 :]

    def next_event(self) -> tuple[str, int | None, dict]:
        """(event type, id, data) of the next event; comments are skipped."""
        while True:
            while b"\n\n" not in self.raw:
                self._fill()
            block, _, self.raw = self.raw.partition(b"\n\n")
            fields = {}
            for line in block.decode().split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                k, _, v = line.partition(":")
                fields[k] = v.strip()
            if "data" in fields:
                eid = int(fields["id"]) if "id" in fields else None
                if eid is not None:
                    self.last_id = eid
                return fields.get("event", "message"), eid, json.loads(fields["data"])

    def reset(self) -> None:
        """Drop the connection the rude way: RST, no FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()
