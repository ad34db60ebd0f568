"""The remote-control event stream for a native helper: GET /signaling/v1/remote-input (WebSocket).

A browser page cannot inject input into other programs, so a person who wants a moderator to act on
their computer runs a helper of their own; it attaches here with the `helper_token` its participant's
client got in `control-started` (first frame `{"type": "attach", "token": ...}`, within 10 s) and
then receives the session's `control-input` frames, in order, the same frames the client gets, until
`control-ended` (then the server closes with 1000). A token of no active session is refused: `error`
`no_such_request`, close 4003. The helper sends nothing more; whatever it sends is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from control.meetings.service import MeetingService

PATH = "/signaling/v1/remote-input"
ATTACH_TIMEOUT = 10.0
MAX_ATTACH = 512
"""Characters of the attach frame."""


async def endpoint(websocket: WebSocket) -> None:
    service: MeetingService | None = getattr(websocket.app.state, "meetings", None)
    await websocket.accept()
    if service is None:
        await websocket.close(1011, "meetings not running")
        return
    try:
        async with asyncio.timeout(ATTACH_TIMEOUT):
            raw = await websocket.receive_text()
    except (TimeoutError, WebSocketDisconnect, RuntimeError):
        with contextlib.suppress(Exception):
            await websocket.close(4008, "no attach in time")
        return
    token = _token(raw)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    attached = service.remote_control.attach_helper(token, queue.put_nowait) if token else None
    if attached is None:
        error = {"type": "error", "code": "no_such_request", "message": "no active remote-control session"}
        await websocket.send_text(json.dumps(error))
        await websocket.close(4003, "no such session")
        return
    _, sid = attached
    await websocket.send_text(json.dumps({"type": "attached", "session_id": sid}))
    drain = asyncio.ensure_future(_ignore_input(websocket))
    try:
        while True:
            getting = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getting, drain}, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
                return  # the helper went away
            frame = getting.result()
            await websocket.send_text(json.dumps(frame, separators=(",", ":")))
            if frame.get("type") == "control-ended":
                await websocket.close(1000, "session ended")
                return
    except Exception:
        return
    finally:
        drain.cancel()
        service.remote_control.detach_helper(sid, queue.put_nowait)


def _token(raw: str) -> str | None:
    if len(raw) > MAX_ATTACH:
        return None
    with contextlib.suppress(ValueError):
        frame = json.loads(raw)
        if isinstance(frame, dict) and frame.get("type") == "attach" and isinstance(frame.get("token"), str):
            return str(frame["token"])
    return None


async def _ignore_input(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


def routes() -> list[BaseRoute]:
    return [WebSocketRoute(PATH, endpoint)]
