"""The participant WebSocket (GET /signaling/v1): see docs/signaling.md for the protocol.

Every frame is validated by a pydantic model (unknown fields refused); a malformed one is answered
by an error frame. Input is bounded as the REST API's is (control.bounds, control.settings.Limits): a
frame's length, its JSON's nesting and number of values, the frames per second of one connection and
the joins per minute of one address (control.ratelimit). The frames the server sends are typed in
control.meetings.frames. Outgoing frames go through a queue and one writer task, so a slow client never
holds a meeting's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Annotated, Any, Literal

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from control import bounds, signaling_tools
from control.domain.datagrams import DropReason
from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Source
from control.errors import ApiError
from control.meetings import frames
from control.meetings.datagram_wire import Datagram, PointerDatagram, encode
from control.meetings.errors import MeetingElsewhere
from control.meetings.live import Link, LiveMeeting
from control.meetings.service import CLOSE_REPLACED, MeetingService
from control.ratelimit import RateLimiter
from control.settings import Limits

log = logging.getLogger("podium.signaling")

PATH = "/signaling/v1"
DEFAULT_LIMITS = Limits()
MAX_FRAME = DEFAULT_LIMITS.max_frame
"""Characters of one frame, by default (`Limits.max_frame`)."""
JOIN_TIMEOUT = 10.0
MAX_ERRORS = 20
CLOSE_AUTH, CLOSE_REFUSED, CLOSE_JOIN_TIMEOUT, CLOSE_ERRORS = 4001, 4003, 4008, 4009
CLOSE_RATE = 4029
"""Too many joins from this address: the error frame before the close says when to retry."""
CLOSE_ELSEWHERE = 4307
"""The room's meeting runs on another replica: the `meeting_elsewhere` error frame before the close
has its signaling URL (`url`); join there."""
__all__ = ["CLOSE_REPLACED"]  # the participant resumed on another socket (control.meetings.service)
CLOSE_TRY_AGAIN = 1013
"""A join the engine could not carry out (`engine_unavailable`, `engine_refused`, `engine_timeout`):
nothing changed, the client may join (or resume) again shortly."""

Ref = Annotated[str, Field(max_length=64)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ref: Ref | None = None


class Join(_Frame):
    type: Literal["join"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    room_id: Id
    resume: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """The resume token of a previous `joined`: become that participant again."""
    keep_media: bool = False
    """Both of the client's peer connections are still connected (with `resume`)."""


class Publish(_Frame):
    type: Literal["publish"]
    sdp: Annotated[str, Field(min_length=1, max_length=200_000)]
    sources: dict[Annotated[str, Field(max_length=32)], Source]
    muted: list[Source] = []


class SubscribeAnswer(_Frame):
    type: Literal["subscribe-answer"]
    sdp: Annotated[str, Field(min_length=1, max_length=200_000)]
    version: int


class CloseProducer(_Frame):
    type: Literal["close-producer"]
    source: Source


class SetSource(_Frame):
    type: Literal["set-source"]
    source: Source
    on: bool


class View(_Frame):
    type: Literal["view"]
    consumer_id: Id
    width: Annotated[int, Field(ge=0, le=100_000)]
    height: Annotated[int, Field(ge=0, le=100_000)]
    """The tile's size in device pixels; 0 x 0: not shown (the consumer pauses)."""


class Moderate(_Frame):
    type: Literal["moderate"]
    action: Action
    target: Id | None = None
    source: Source | None = None
    capability: Capability | None = None
    person: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    seconds: Annotated[float, Field(gt=0, le=10 * 365 * 86400)] | None = None


class Chat(_Frame):
    type: Literal["chat"]
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    to: Id | None = None


class Leave(_Frame):
    type: Literal["leave"]


class Ping(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    Join
    | Publish
    | SubscribeAnswer
    | CloseProducer
    | SetSource
    | View
    | Moderate
    | Chat
    | Leave
    | Ping
    | signaling_tools.WhiteboardFrame
    | signaling_tools.WhiteboardSync
    | signaling_tools.SettingsRequestFrame
    | signaling_tools.SettingsAnswerFrame
    | signaling_tools.ControlRequestFrame
    | signaling_tools.ControlAnswerFrame
    | signaling_tools.ControlEventFrame
    | signaling_tools.ControlEndFrame,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientFrame)
TYPES = (
    "join",
    "publish",
    "subscribe-answer",
    "close-producer",
    "set-source",
    "view",
    "moderate",
    "chat",
    "leave",
    "ping",
    *signaling_tools.TYPES,
)


class FrameError(Exception):
    def __init__(self, code: str, message: str, ref: str | None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def parse(raw: str | bytes | None, limits: Limits = DEFAULT_LIMITS) -> Any:
    """One client frame as its model; FrameError otherwise: `frame_too_large`, `malformed`,
    `json_too_deep`, `json_too_many_values` or `invalid`."""
    if raw is None or isinstance(raw, bytes):
        raise FrameError("malformed", "binary frames are not part of the protocol", None)
    if len(raw) > limits.max_frame:
        raise FrameError("frame_too_large", f"frame longer than {limits.max_frame} characters", None)
    try:
        data = bounds.decode(raw, limits.max_json_depth, limits.max_json_values)
    except bounds.NotJson:
        raise FrameError("malformed", "frame is not JSON", None) from None
    except bounds.ShapeError as error:
        raise FrameError(error.code, error.message, None) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError("malformed", 'frame is not a JSON object with a string "type"', None)
    ref = data.get("ref") if isinstance(data.get("ref"), str) and len(data["ref"]) <= 64 else None
    if data["type"] not in TYPES:
        raise FrameError("invalid", f"unknown frame type {data['type']!r}", ref)
    try:
        return _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"][1:])[: bounds.MAX_MESSAGE]
        message = first["msg"][: bounds.MAX_MESSAGE]
        raise FrameError("invalid", f"{where}: {message}" if where else message, ref) from None


class Session:
    """One participant's socket."""

    def __init__(
        self,
        websocket: WebSocket,
        service: MeetingService,
        limits: Limits = DEFAULT_LIMITS,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.ws = websocket
        self.service = service
        self.limits = limits
        self.limiter = limiter or RateLimiter(limits.without_rates())
        self.peer = websocket.client.host if websocket.client is not None else "unknown"
        """The socket's peer address, the key of the join limit (a forwarded address is not trusted)."""
        self.key = f"{id(self):x}"
        """This connection's key of the frame limit."""
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.live: LiveMeeting | None = None
        self.pid: str | None = None
        self.link: Link | None = None
        self.closed = False
        self.errors = 0
        self.dispatching = False
        self.deferred_close: tuple[int, str] | None = None

    def send(self, frame: dict[str, Any]) -> None:
        if not self.closed:
            self.queue.put_nowait(frame)

    async def close(self, code: int, reason: str) -> None:
        if self.dispatching and self.deferred_close is None:
            self.deferred_close = (code, reason)  # after the reply to the frame being handled
            return
        if not self.closed:
            self.closed = True
            self.queue.put_nowait({"__close__": code, "reason": reason[:120]})

    async def writer(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            try:
                if "__close__" in frame:
                    await self.ws.close(frame["__close__"], frame["reason"])
                    return
                await self.ws.send_text(json.dumps(frame, separators=(",", ":")))
            except Exception:
                return

    def error(
        self, code: str, message: str, ref: str | None, retry_after: int | None = None, url: str | None = None
    ) -> None:
        self.send(frames.Error(code=code, message=message, ref=ref, retry_after=retry_after, url=url).wire())

    async def run(self) -> None:
        writer = asyncio.ensure_future(self.writer())
        try:
            await self._serve()
        finally:
            if self.live is not None and self.pid is not None:
                with contextlib.suppress(Exception):
                    await self.service.disconnected(self.live, self.pid, self.link)
            self.limiter.forget("frames", self.key)
            if not self.closed:
                await self.close(1000, "bye")
            try:
                await asyncio.wait_for(writer, 2)
            except (TimeoutError, asyncio.CancelledError):
                writer.cancel()

    async def _receive(self) -> str | bytes | Datagram | None:
        try:
            message = await self.ws.receive()
        except (RuntimeError, WebSocketDisconnect):
            return None
        if message["type"] == "websocket.disconnect":
            return None
        if message["type"] == "webtransport.datagram":  # control.webtransport: decoded, not stale
            datagram: Datagram = message["datagram"]
            return datagram
        text = message.get("text")
        return text if text is not None else (message.get("bytes") or b"")

    async def _serve(self) -> None:
        try:
            async with asyncio.timeout(JOIN_TIMEOUT):
                while self.live is None:
                    raw = await self._receive()
                    if raw is None:
                        return
                    if not isinstance(raw, str | bytes):
                        self._drop(DropReason.UNKNOWN_SESSION)  # a datagram before the join
                    elif not await self._handle(raw):
                        return
        except TimeoutError:
            self.error("join_timeout", f"no join within {JOIN_TIMEOUT:g} s", None)
            await self.close(CLOSE_JOIN_TIMEOUT, "no join in time")
            return
        while not self.closed:
            raw = await self._receive()
            if raw is None:
                return
            if not isinstance(raw, str | bytes):
                await self._datagram(raw)
            elif not await self._handle(raw):
                return

    async def _datagram(self, datagram: Datagram) -> None:
        """One datagram (WebTransport): through the rules of its kind; what they refuse is dropped
        and counted, never answered."""
        live, pid = self.live, self.pid
        if live is None or pid is None or live.links.get(pid) is not self.link:
            self._drop(DropReason.UNKNOWN_SESSION)
            return
        if self.limiter.wait("frames", self.key):  # the connection's frame rate counts datagrams too
            self._drop(DropReason.RATE_LIMITED)
            return
        try:
            if isinstance(datagram, PointerDatagram):
                frame = datagram.frame
                await self.service.remote_control.event(live, pid, frame.session_id, frame.event, datagram=True)
                return
            dropped = self.service.whiteboard_previews.relay(live, pid, datagram)
        except ApiError as error:
            dropped = DropReason.RATE_LIMITED if error.code == "rate_limited" else DropReason.NOT_PERMITTED
        except Exception:
            log.exception("signaling: a %s datagram failed", datagram.kind)
            return
        if dropped is not None:
            self._drop(dropped)

    def _drop(self, reason: DropReason) -> None:
        """Count a dropped datagram (only a WebTransport socket has datagrams, and counts them)."""
        drop = getattr(self.ws, "drop", None)
        if drop is not None:
            drop(reason)

    def _send_datagram(self, frame: dict[str, Any]) -> bool:
        """Send a frame as one datagram (the link's `datagram`, WebTransport only)."""
        send = getattr(self.ws, "send_datagram", None)
        return send is not None and not self.closed and bool(send(encode(frame)))

    async def _handle(self, raw: str | bytes) -> bool:
        """Handles one frame; False when the session must end."""
        try:
            wait = self.limiter.wait("frames", self.key)
            if wait:
                message = self.limiter.refusal("frames", wait) + "; the frame was dropped"
                raise FrameError("rate_limited", message, None)
            if isinstance(raw, str) and bounds.THREAD_ABOVE < len(raw) <= self.limits.max_frame:
                frame = await anyio.to_thread.run_sync(parse, raw, self.limits)  # off the event loop
            else:
                frame = parse(raw, self.limits)
        except FrameError as error:
            self.errors += 1
            self.error(error.code, error.message, error.ref)
            if self.errors > MAX_ERRORS:
                await self.close(CLOSE_ERRORS, "too many refused frames")
                return False
            return True
        self.dispatching = True
        try:
            return await self._dispatch(frame)
        except ApiError as error:
            url = error.signaling_url() if isinstance(error, MeetingElsewhere) else None
            self.error(error.code, error.message, frame.ref, url=url)
            if isinstance(frame, Join):
                await self.close(_join_refusal_code(error), error.code)
                return False
            return True
        except Exception:
            log.exception("signaling: %s failed", type(frame).__name__)
            self.error("internal", "internal error", frame.ref)
            return True
        finally:
            self.dispatching = False
            if self.deferred_close is not None:
                await self.close(*self.deferred_close)

    async def _dispatch(self, frame: Any) -> bool:
        service = self.service
        if isinstance(frame, Ping):
            self.send(frames.Pong(ref=frame.ref).wire())
            return True
        if isinstance(frame, Join):
            if self.live is not None:
                self.error("already_joined", "this socket has joined already", frame.ref)
                return True
            wait = self.limiter.wait("join", self.peer)
            if wait:
                self.error("rate_limited", self.limiter.refusal("join", wait), frame.ref, retry_after=wait)
                await self.close(CLOSE_RATE, f"too many joins; retry in {wait} s")
                return False
            datagram = self._send_datagram if hasattr(self.ws, "send_datagram") else None
            link = Link(self._send_with_ref(frame.ref), self.close, datagram)
            self.live, self.pid = await service.join(
                frame.token, frame.room_id, link, resume=frame.resume, keep_media=frame.keep_media
            )
            self.link = link
            return True
        live, pid = self.live, self.pid
        if live is None or pid is None:
            self.error("not_joined", "send join first", frame.ref)
            return True
        if live.links.get(pid) is not self.link:  # resumed on another socket, or gone
            self.error("not_joined", "this socket no longer speaks for its participant", frame.ref)
            return False
        if isinstance(frame, Publish):
            reply = await service.publish(live, pid, frame.sdp, dict(frame.sources), frozenset(frame.muted))
            self.send(reply.model_copy(update={"ref": frame.ref}).wire())
        elif isinstance(frame, SubscribeAnswer):
            await service.subscribe_answer(live, pid, frame.version, frame.sdp)
            self.send(frames.Ok(ref=frame.ref).wire())
        elif isinstance(frame, CloseProducer):
            await service.close_producer(live, pid, frame.source)
            self.send(frames.ProducerClosed(source=str(frame.source), ref=frame.ref).wire())
        elif isinstance(frame, SetSource):
            action = Action.TURN_ON_SOURCE if frame.on else Action.TURN_OFF_SOURCE
            await service.act(live, pid, Command(action, source=frame.source))
            self.send(frames.Ok(ref=frame.ref).wire())
        elif isinstance(frame, View):
            await service.view(live, pid, frame.consumer_id, frame.width, frame.height)
            self.send(frames.Ok(ref=frame.ref).wire())
        elif isinstance(frame, Moderate):
            started = time.perf_counter()
            command = Command(
                frame.action,
                target=frame.target,
                source=frame.source,
                capability=frame.capability,
                person=frame.person,
                seconds=frame.seconds,
            )
            version = await service.act(live, pid, command, started=started)
            self.send(frames.Moderated(action=str(frame.action), version=version, ref=frame.ref).wire())
        elif isinstance(frame, Chat):
            await service.chat(live, pid, frame.text, frame.to)
            self.send(frames.Ok(ref=frame.ref).wire())
        elif isinstance(frame, signaling_tools.FRAMES):
            fields = await signaling_tools.dispatch(service, live, pid, frame)
            self.send({**frames.Ok(ref=frame.ref).wire(), **fields})
        elif isinstance(frame, Leave):
            await service.leave(live, pid)
            self.live = None
            await self.close(1000, "left")
            return False
        return True

    def _send_with_ref(self, ref: str | None) -> Any:
        """The link's send: the `joined` frame carries the join's ref."""

        def send(frame: dict[str, Any]) -> None:
            if frame.get("type") == "joined":
                frame = {**frame, "ref": ref}
            self.send(frame)

        return send


def _join_refusal_code(error: ApiError) -> int:
    if isinstance(error, MeetingElsewhere):
        return CLOSE_ELSEWHERE
    if error.status == 401:
        return CLOSE_AUTH
    if error.code.startswith("engine_"):
        return CLOSE_TRY_AGAIN
    return CLOSE_REFUSED


async def endpoint(websocket: WebSocket) -> None:
    service: MeetingService | None = getattr(websocket.app.state, "meetings", None)
    await websocket.accept()
    if service is None:
        await websocket.close(1011, "meetings not running")
        return
    state = websocket.app.state
    await Session(websocket, service, state.limits, state.rate_limiter).run()


def routes() -> list[BaseRoute]:
    return [WebSocketRoute(PATH, endpoint)]
