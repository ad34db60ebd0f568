"""Which WebTransport datagrams reach the signaling Session (control.webtransport.StreamSocket.datagram):
decoded, numbered above the last of their type; the rest dropped and counted by reason, also through
the `dropped` callback that feeds /metrics. Sending one over MAX_DATAGRAM is refused and counted."""

from __future__ import annotations

import json

from control.domain.datagrams import MAX_DATAGRAM, DropReason
from control.meetings.datagram_wire import PointerDatagram, PreviewDatagram
from control.webtransport import Peer, StreamSocket

MOVE = {"type": "control-event", "n": 1, "session_id": "s", "event": {"kind": "pointermove", "x": 0.5, "y": 0.5}}
PREVIEW = {"type": "whiteboard-preview", "n": 1, "stroke": 1, "color": "#000000", "width": 4, "points": [[1, 1]]}


def data(frame: dict) -> bytes:
    return json.dumps(frame).encode()


def test_datagrams_dropped_and_counted_by_reason() -> None:
    counted: list[DropReason] = []
    socket = StreamSocket(None, 0, Peer("127.0.0.1", 1), 65536, counted.append)  # type: ignore[arg-type]
    socket.datagram(data(MOVE))  # before the signaling stream: nobody to speak for
    socket.data(4, b"", False)
    for bad in (
        b"not json",
        b"[1, 2]",
        b"[" * 5000,
        data({"type": "whiteboard", "op": {"kind": "clear"}}),
        data(MOVE | {"ref": "1"}),
        b"\xff\xfe",
    ):
        socket.datagram(bad)
    socket.datagram(b" " * MAX_DATAGRAM + data(MOVE))
    socket.datagram(data(MOVE | {"n": 2}))
    socket.datagram(data(MOVE | {"n": 2}))  # duplicated
    socket.datagram(data(MOVE | {"n": 1}))  # late
    socket.datagram(data(PREVIEW))  # its own numbers
    expected = {
        DropReason.UNKNOWN_SESSION: 1,
        DropReason.MALFORMED: 5,  # "[" * 5000 is over the size first
        DropReason.TOO_BIG: 2,
        DropReason.STALE: 2,
    }
    assert socket.dropped == expected
    assert sorted(counted) == sorted(socket.dropped.elements())
    got = [socket._incoming.get_nowait()["datagram"] for _ in range(2)]
    assert isinstance(got[0], PointerDatagram) and got[0].n == 2
    assert isinstance(got[1], PreviewDatagram) and socket._incoming.empty()


def test_a_datagram_over_the_limit_is_not_sent() -> None:
    socket = StreamSocket(None, 0, Peer("127.0.0.1", 1), 65536)  # type: ignore[arg-type]
    assert socket.send_datagram(b"x" * (MAX_DATAGRAM + 1)) is False
    assert socket.dropped == {DropReason.TOO_BIG: 1}
