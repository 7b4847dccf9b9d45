"""Run code in a Jupyter kernel through a server's websocket, as Lab does."""

from __future__ import annotations

import asyncio
import json
import uuid

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def _run(ws_url: str, token: str, code: str, timeout: float) -> str:
    request = HTTPRequest(
        ws_url, headers={"Authorization": f"token {token}"}, connect_timeout=timeout
    )
    conn = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout)
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append(f"{content['ename']}: {content['evalue']}\n")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
    finally:
        conn.close()


def run_code(server_url: str, token: str, kernel_id: str, code: str, timeout: float = 90) -> str:
    """stdout and errors of ``code`` run in the kernel (``server_url``: .../user/alice)."""
    ws = server_url.replace("http://", "ws://").rstrip("/") + f"/api/kernels/{kernel_id}/channels"
    return asyncio.run(_run(ws, token, code, timeout))
