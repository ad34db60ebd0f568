"""Signaling over WebTransport (HTTP/3, aioquic): the same frames as the WebSocket, on one
bidirectional stream of a WebTransport session to `/signaling/v1` (docs/signaling.md, "WebTransport").

`podium serve --webtransport-port PORT` (with --tls-cert/--tls-key: QUIC needs TLS) starts it beside
the HTTP server, on UDP, in the control plane's own event loop, so a session is one more
`control.signaling.Session` of the same meeting service. The client opens the session, then one
bidirectional stream; each frame is one line of JSON (JSON text escapes newlines, so a newline ends a
frame), both ways. When the server closes the session it first writes
`{"type": "close", "code": ..., "reason": ...}` (the WebSocket's close code and reason), then ends the
stream and the session.

Datagrams of the session carry what may be lost or reordered (docs/signaling.md, "Datagrams"):
remote-control pointer moves and whiteboard previews, both ways. Each is decoded here
(control.meetings.datagram_wire), stale ones dropped by their number, and the rest handed to the
`Session` in order with the frames; every drop is counted by reason.

The protocol driver is a thin shell over aioquic's HTTP/3 connection: `QuicConnectionProtocol` feeds it
QUIC events, `H3Connection` turns them into HTTP/3 and WebTransport events, and each accepted session
gets a `StreamSocket`, which speaks to `Session` as Starlette's WebSocket does.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DatagramReceived, H3Event, HeadersReceived, WebTransportStreamDataReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, ProtocolNegotiated, QuicEvent, StreamReset

from control.domain.datagrams import MAX_DATAGRAM, DropReason, LastNumbers
from control.meetings import datagram_wire

log = logging.getLogger("podium.webtransport")

PATH = b"/signaling/v1"
SETTINGS_WEBTRANSPORT_MAX_SESSIONS = 0xC671706A
"""The current drafts' setting (browsers that speak them look for it beside ENABLE_WEBTRANSPORT)."""
MAX_SESSIONS = 4
MAX_LINE_FACTOR = 4
"""A frame's line may hold at most this many bytes per character of the frame limit (UTF-8)."""
Dropped = Callable[[DropReason], None]
"""Counts one dropped datagram (control.metrics: podium_webtransport_datagrams_dropped_total)."""


@dataclass(frozen=True)
class Peer:
    host: str
    port: int


class StreamSocket:
    """One WebTransport session's signaling stream, as `control.signaling.Session` uses a WebSocket:
    `receive()`, `send_text()`, `close()`, `client`; and its datagrams: `receive()` yields them too
    (`webtransport.datagram` messages), `send_datagram()` sends one, `drop()` counts one dropped."""

    def __init__(
        self, protocol: _Protocol, session_id: int, peer: Peer, max_line: int, dropped: Dropped | None = None
    ) -> None:
        self.protocol = protocol
        self.session_id = session_id
        self.client = peer
        self.stream_id: int | None = None
        """The client's first bidirectional stream of the session: the signaling stream."""
        self.max_line = max_line
        self._buffer = b""
        self._incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = False
        self.numbers = LastNumbers()
        """The greatest `n` accepted per datagram type: what is not above it is stale."""
        self.dropped: collections.Counter[DropReason] = collections.Counter()
        """Datagrams dropped on this session, by reason (in or out)."""
        self._count_drop = dropped

    # -- from the connection --

    def data(self, stream_id: int, data: bytes, ended: bool) -> None:
        if self.stream_id is None:
            self.stream_id = stream_id
        if stream_id != self.stream_id or self.closed:
            return  # only one signaling stream per session
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if line.strip():
                self._incoming.put_nowait({"type": "websocket.receive", "text": line.decode("utf-8", "replace")})
        if len(self._buffer) > self.max_line:
            self._buffer = b""
            self._incoming.put_nowait({"type": "websocket.receive", "bytes": b"oversized"})  # refused by Session
        if ended:
            self.gone()

    def datagram(self, data: bytes) -> None:
        """One datagram: decoded (control.meetings.datagram_wire) and, unless stale, handed to the
        signaling Session with the frames (it applies the rules of its kind); dropped and counted
        otherwise. Nothing answers a datagram."""
        if self.closed or self.stream_id is None:
            self.drop(DropReason.UNKNOWN_SESSION)  # no signaling stream yet: nobody it speaks for
            return
        decoded = datagram_wire.decode(data)
        if isinstance(decoded, DropReason):
            self.drop(decoded)
        elif not self.numbers.admit(decoded.kind, decoded.n):
            self.drop(DropReason.STALE)
        else:
            self._incoming.put_nowait({"type": "webtransport.datagram", "datagram": decoded})

    def drop(self, reason: DropReason) -> None:
        self.dropped[reason] += 1
        if self._count_drop is not None:
            self._count_drop(reason)
        log.debug("datagram dropped: %s (%d so far on this session)", reason, self.dropped.total())

    def gone(self) -> None:
        if not self.closed:
            self.closed = True
            self._incoming.put_nowait({"type": "websocket.disconnect"})

    # -- what Session calls --

    async def receive(self) -> dict[str, Any]:
        return await self._incoming.get()

    async def send_text(self, text: str) -> None:
        if self.stream_id is None or self.protocol.terminated:
            raise ConnectionError("the WebTransport session is gone")
        self.protocol.write(self.stream_id, text.encode() + b"\n")

    def send_datagram(self, data: bytes) -> bool:
        """Send one datagram to the client; False (and counted when too big) where it cannot go."""
        if len(data) > MAX_DATAGRAM:
            self.drop(DropReason.TOO_BIG)
            return False
        if self.closed or self.protocol.terminated:
            return False
        return self.protocol.datagram(self.session_id, data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.stream_id is not None and not self.protocol.terminated:
            record = json.dumps({"type": "close", "code": code, "reason": reason}, separators=(",", ":"))
            self.protocol.write(self.stream_id, record.encode() + b"\n", end=True)
            self.protocol.end_session(self.session_id)
        self.gone()


class _Protocol(QuicConnectionProtocol):
    """One QUIC connection: HTTP/3 with WebTransport; sessions to PATH become signaling sessions."""

    def __init__(
        self,
        *args: Any,
        open_session: Callable[[StreamSocket], Any],
        max_line: int,
        dropped: Dropped | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._http: H3Connection | None = None
        self._open_session = open_session
        self._max_line = max_line
        self._dropped = dropped
        self._sockets: dict[int, StreamSocket] = {}
        self.terminated = False

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self._http = _WebTransportH3(self._quic, enable_webtransport=True)
        if isinstance(event, ConnectionTerminated):
            self.terminated = True
            for socket in self._sockets.values():
                socket.gone()
        if isinstance(event, StreamReset) and event.stream_id in self._sockets:
            self._sockets[event.stream_id].gone()  # the session's CONNECT stream was reset
        if self._http is not None:
            for h3_event in self._http.handle_event(event):
                self._h3_event(h3_event)

    def _h3_event(self, event: H3Event) -> None:
        assert self._http is not None
        if isinstance(event, HeadersReceived):
            headers = dict(event.headers)
            connect = headers.get(b":method") == b"CONNECT" and headers.get(b":protocol") == b"webtransport"
            if not connect or headers.get(b":path", b"").split(b"?")[0] != PATH:
                self._http.send_headers(event.stream_id, [(b":status", b"404")], end_stream=True)
                self.transmit()
                return
            self._http.send_headers(
                event.stream_id, [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")]
            )
            self.transmit()
            address = self._quic._network_paths[0].addr if self._quic._network_paths else ("unknown", 0)
            peer = Peer(str(address[0]), int(address[1]))
            opened = StreamSocket(self, event.stream_id, peer, self._max_line, self._dropped)
            self._sockets[event.stream_id] = opened
            self._open_session(opened)
        elif isinstance(event, DatagramReceived):
            socket = self._sockets.get(event.stream_id)
            if socket is not None:
                socket.datagram(event.data)
            elif self._dropped is not None:
                self._dropped(DropReason.UNKNOWN_SESSION)  # for no session of this connection
        elif isinstance(event, WebTransportStreamDataReceived):
            socket = self._sockets.get(event.session_id)
            if socket is not None:
                socket.data(event.stream_id, event.data, event.stream_ended)

    def write(self, stream_id: int, data: bytes, end: bool = False) -> None:
        self._quic.send_stream_data(stream_id, data, end_stream=end)
        self.transmit()

    def datagram(self, session_id: int, data: bytes) -> bool:
        """Send a datagram on the session; False where the client takes none (it did not offer them)."""
        if self._http is None or self._quic._remote_max_datagram_frame_size is None:
            return False
        self._http.send_datagram(session_id, data)
        self.transmit()
        return True

    def end_session(self, session_id: int) -> None:
        """End the session's CONNECT stream: the session is closed."""
        with contextlib.suppress(Exception):
            assert self._http is not None
            self._http.send_data(session_id, b"", end_stream=True)
            self.transmit()


class _WebTransportH3(H3Connection):
    """aioquic's HTTP/3 connection, announcing WebTransport sessions as the current drafts name them too."""

    def _get_local_settings(self) -> dict[int, int]:
        settings = super()._get_local_settings()
        settings[SETTINGS_WEBTRANSPORT_MAX_SESSIONS] = MAX_SESSIONS
        return settings


@contextlib.asynccontextmanager
async def serving(
    host: str,
    port: int,
    cert: Path,
    key: Path,
    open_session: Callable[[StreamSocket], Any],
    max_frame: int,
    dropped: Dropped | None = None,
) -> AsyncIterator[None]:
    """Accept WebTransport sessions on UDP `host`:`port` while the context is open; `open_session` runs
    each session's signaling (it is called with the session's socket and must not block); `dropped`
    counts each datagram dropped."""
    configuration = QuicConfiguration(alpn_protocols=H3_ALPN, is_client=False, max_datagram_frame_size=65536)
    configuration.load_cert_chain(cert, key)
    max_line = max_frame * MAX_LINE_FACTOR

    def protocol(*args: Any, **kwargs: Any) -> _Protocol:
        return _Protocol(*args, open_session=open_session, max_line=max_line, dropped=dropped, **kwargs)

    server = await serve(host, port, configuration=configuration, create_protocol=protocol)
    log.info("WebTransport (HTTP/3) signaling on udp %s port %d", host, port)
    try:
        yield
    finally:
        server.close()
