"""Remote-control pointer input as WebTransport datagrams: an aioquic WebTransport client (the
moderator) joins over `podium serve --webtransport-port` and sends `control-event` frames as
datagrams. Before the participant's consent none passes; after it they reach her (on the WebSocket)
as `control-input`, numbered as on the stream path; malformed, oversize and ref'd datagrams are
dropped and the session goes on."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import pytest
from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent, StreamDataReceived
from harness import loopback_only
from media import NumberedVideoTrack
from podium_client import Api, Participant, PodiumServer, free_port

pytestmark = pytest.mark.timeout(90)


class WebTransportClient(QuicConnectionProtocol):
    """A signaling session over WebTransport: frames as lines on one stream, and datagrams."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic, enable_webtransport=True)
        self.accepted: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.frames: list[dict] = []
        self.arrived = asyncio.Event()
        self._buffer = b""
        self.session_id = self.stream_id = -1
        self._refs = 0

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, StreamDataReceived) and event.stream_id == self.stream_id:
            # aioquic's client does not mark the streams it opens as WebTransport's: read ours here
            self._buffer += event.data
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                self.frames.append(json.loads(line))
                self.arrived.set()
            return
        for h3 in self.http.handle_event(event):
            if isinstance(h3, HeadersReceived) and not self.accepted.done():
                self.accepted.set_result(dict(h3.headers))

    async def open(self, authority: str) -> None:
        self.session_id = self._quic.get_next_available_stream_id()
        headers = [(b":method", b"CONNECT"), (b":scheme", b"https"), (b":authority", authority.encode())]
        headers += [(b":path", b"/signaling/v1"), (b":protocol", b"webtransport")]
        self.http.send_headers(self.session_id, headers)
        self.transmit()
        assert (await asyncio.wait_for(self.accepted, 10))[b":status"] == b"200"
        self.stream_id = self.http.create_webtransport_stream(self.session_id)

    async def request(self, frame: dict) -> dict:
        self._refs += 1
        ref = str(self._refs)
        self._quic.send_stream_data(self.stream_id, json.dumps({**frame, "ref": ref}).encode() + b"\n")
        self.transmit()
        async with asyncio.timeout(10):
            while True:
                for answer in self.frames:
                    if answer.get("ref") == ref:
                        if answer["type"] == "error":
                            raise AssertionError(answer)
                        return answer
                self.arrived.clear()
                await self.arrived.wait()

    def datagram(self, data: bytes) -> None:
        self.http.send_datagram(self.session_id, data)
        self.transmit()


async def test_pointer_datagrams_pass_only_after_consent(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    wt_port = free_port()
    podium = PodiumServer.start(tmp_path / "podium", options=("--webtransport-port", str(wt_port), "--dev-certificate"))
    alice = None
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Datagrams", screen_share=True)
        alice_id, alice_token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)

        configuration = QuicConfiguration(
            alpn_protocols=H3_ALPN,
            is_client=True,
            verify_mode=ssl.CERT_NONE,
            max_datagram_frame_size=65536,
            max_datagram_size=1452,  # room in a packet for the oversize datagram below
        )
        async with connect(
            "127.0.0.1", wt_port, configuration=configuration, create_protocol=WebTransportClient
        ) as client:
            assert isinstance(client, WebTransportClient)
            await client.open(f"127.0.0.1:{wt_port}")
            await client.request({"type": "join", "token": api.token, "room_id": room["id"]})
            alice = await Participant.join(podium, alice_token, room["id"])  # after the organizer: not waiting
            await alice.publish(screen=NumberedVideoTrack())
            await asyncio.sleep(0.5)  # the organizer's session hears of the screen share
            sid = (await client.request({"type": "control-request", "target": alice.id}))["session_id"]

            def move(x: float) -> bytes:
                return json.dumps(
                    {"type": "control-event", "session_id": sid, "event": {"kind": "pointermove", "x": x, "y": 0.5}}
                ).encode()

            await alice.wait_event("control-requested", lambda f: f["session_id"] == sid)
            client.datagram(move(0.1))  # no consent yet: refused like a stream frame
            await asyncio.sleep(0.5)
            await alice.request({"type": "control-answer", "session_id": sid, "allow": True})
            await alice.wait_event("control-started", lambda f: f["session_id"] == sid)

            client.datagram(b"not json")
            client.datagram(b'{"type": "whiteboard", "op": {"kind": "clear"}}')  # ordered frames: not as datagrams
            client.datagram(b" " * 1200 + move(0.9))  # a valid frame, but over MAX_DATAGRAM bytes
            with_ref = json.loads(move(0.8)) | {"ref": "d1"}
            client.datagram(json.dumps(with_ref).encode())  # nothing answers a datagram: no refs
            client.datagram(move(0.2))
            client.datagram(move(0.3))
            await alice.wait_event("control-input", lambda f: f["event"]["x"] == 0.3)
            got = [f for f in alice.events if f.get("type") == "control-input"]
            assert [f["event"]["x"] for f in got] == [0.2, 0.3] and [f["seq"] for f in got] == [1, 2]
            assert not [f for f in alice.events if f.get("type") == "whiteboard-op"]
            # dropped datagrams are not answered; only the one before consent was refused, like a frame
            refused = [f for f in client.frames if f["type"] == "error"]
            assert [(f["code"], f["ref"]) for f in refused] == [("no_such_request", None)]
            # the session goes on over the stream
            assert (
                await client.request(
                    {"type": "control-event", "session_id": sid, "event": {"kind": "pointermove", "x": 0.4, "y": 0.5}}
                )
            )["seq"] == 3
    finally:
        if alice is not None:
            await alice.close()
        podium.stop()
