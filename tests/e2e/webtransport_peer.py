"""A signaling client over WebTransport (aioquic), as a browser's lib/webtransport.js speaks it: one
session to /signaling/v1, frames as lines on one bidirectional stream, and datagrams both ways.

`WebTransportClient` is the QUIC connection; `StreamWs` makes its stream look like the websocket a
`podium_client.Participant` reads and writes, so an aiortc participant (media included) can signal
over WebTransport: `joined_over_webtransport`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DatagramReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StreamDataReceived
from podium_client import Participant, PodiumServer


class WebTransportClient(QuicConnectionProtocol):
    """A signaling session over WebTransport: frames as lines on one stream, and datagrams."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic, enable_webtransport=True)
        self.accepted: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.datagrams: list[dict] = []
        """Datagrams received, decoded, in arrival order."""
        self.arrived = asyncio.Event()
        self._buffer = b""
        self.session_id = self.stream_id = -1
        self.sent = 0
        """The `n` of the last datagram sent."""

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, StreamDataReceived) and event.stream_id == self.stream_id:
            # aioquic's client does not mark the streams it opens as WebTransport's: read ours here
            self._buffer += event.data
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                self.lines.put_nowait(line.decode())
            if event.end_stream:
                self.lines.put_nowait(None)
            return
        if isinstance(event, ConnectionTerminated):
            self.lines.put_nowait(None)
        for h3 in self.http.handle_event(event):
            if isinstance(h3, HeadersReceived) and not self.accepted.done():
                self.accepted.set_result(dict(h3.headers))
            elif isinstance(h3, DatagramReceived) and h3.stream_id == self.session_id:
                self.datagrams.append(json.loads(h3.data))
                self.arrived.set()

    async def open(self, authority: str) -> None:
        self.session_id = self._quic.get_next_available_stream_id()
        headers = [(b":method", b"CONNECT"), (b":scheme", b"https"), (b":authority", authority.encode())]
        headers += [(b":path", b"/signaling/v1"), (b":protocol", b"webtransport")]
        self.http.send_headers(self.session_id, headers)
        self.transmit()
        assert (await asyncio.wait_for(self.accepted, 10))[b":status"] == b"200"
        self.stream_id = self.http.create_webtransport_stream(self.session_id)

    def send_line(self, text: str) -> None:
        self._quic.send_stream_data(self.stream_id, text.encode() + b"\n")
        self.transmit()

    def datagram(self, data: bytes) -> None:
        self.http.send_datagram(self.session_id, data)
        self.transmit()

    def send_numbered(self, frame: dict, n: int | None = None) -> int:
        """Send a frame as a datagram with the next `n` (or the one given); returns its `n`."""
        if n is None:
            self.sent += 1
            n = self.sent
        self.datagram(json.dumps({**frame, "n": n}).encode())
        return n

    async def wait_datagram(self, predicate: Any, timeout: float = 10) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.datagrams:
                    if predicate(frame):
                        return frame
                self.arrived.clear()
                await self.arrived.wait()


class StreamWs:
    """The client's signaling stream as `Participant` uses a websocket: `send`, `close`, iteration."""

    def __init__(self, client: WebTransportClient) -> None:
        self.client = client

    async def send(self, text: str) -> None:
        self.client.send_line(text)

    async def close(self) -> None:
        self.client.close()

    def __aiter__(self) -> StreamWs:
        return self

    async def __anext__(self) -> str:
        line = await self.client.lines.get()
        if line is None:
            raise StopAsyncIteration
        if json.loads(line).get("type") == "close":
            raise StopAsyncIteration  # the server's close record ends the session
        return line


def client_configuration() -> QuicConfiguration:
    return QuicConfiguration(
        alpn_protocols=H3_ALPN,
        is_client=True,
        verify_mode=ssl.CERT_NONE,  # the development certificate
        max_datagram_frame_size=65536,
        max_datagram_size=1452,  # room in a packet for an oversize datagram
    )


@contextlib.asynccontextmanager
async def joined_over_webtransport(
    podium: PodiumServer, port: int, token: str, room_id: str
) -> AsyncIterator[tuple[Participant, WebTransportClient]]:
    """An aiortc participant whose signaling runs over a WebTransport session to `port`, joined."""
    async with connect(
        "127.0.0.1", port, configuration=client_configuration(), create_protocol=WebTransportClient
    ) as c:
        assert isinstance(c, WebTransportClient)
        await c.open(f"127.0.0.1:{port}")
        participant = Participant(podium, StreamWs(c))
        participant._tasks.append(asyncio.ensure_future(participant._reader()))
        try:
            participant.joined = await participant.request({"type": "join", "token": token, "room_id": room_id})
            participant.id = participant.joined["participant_id"]
            yield participant, c
        finally:
            await participant.close()
