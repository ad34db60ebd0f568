"""The engine channel's endpoint: one WebSocket per engine worker, served by the registry."""

from __future__ import annotations

import contextlib

from starlette.websockets import WebSocket

from contract.framing import CLOSE_GOING_AWAY
from control.engines.registry import EngineRegistry

CHANNEL_PATH = "/engine/v1/channel"


class WebSocketConnection:
    """A Starlette WebSocket as the registry's `Connection`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def recv(self) -> str | bytes | None:
        if self.closed:
            return None
        try:
            message = await self.websocket.receive()
        except RuntimeError:
            return None
        if message["type"] == "websocket.disconnect":
            self.closed = True
            return None
        text = message.get("text")
        return text if text is not None else (message.get("bytes") or b"")

    async def send(self, frame: str) -> None:
        await self.websocket.send_text(frame)

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.websocket.close(code, reason[:120])


async def channel_endpoint(websocket: WebSocket) -> None:
    """The engine channel: one WebSocket per engine worker (GET /engine/v1/channel)."""
    registry: EngineRegistry | None = getattr(websocket.app.state, "engines", None)
    await websocket.accept()
    conn = WebSocketConnection(websocket)
    if registry is None:
        await conn.close(1011, "engine registry not running")
        return
    try:
        await registry.handle(conn)
    finally:
        await conn.close(CLOSE_GOING_AWAY, "bye")
