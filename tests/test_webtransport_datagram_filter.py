"""Which WebTransport datagrams become signaling frames (control.webtransport.StreamSocket.datagram):
small JSON `control-event` frames without a ref; everything else dropped and counted."""

from __future__ import annotations

import json

from control.webtransport import MAX_DATAGRAM, Peer, StreamSocket

MOVE = {"type": "control-event", "session_id": "s", "event": {"kind": "pointermove", "x": 0.5, "y": 0.5}}


def test_datagrams_dropped_and_counted() -> None:
    socket = StreamSocket(None, 0, Peer("127.0.0.1", 1), 65536)  # type: ignore[arg-type]
    socket.datagram(json.dumps(MOVE).encode())  # before the signaling stream: nobody to speak for
    socket.data(4, b"", False)
    for bad in (
        b"not json",
        b"[1, 2]",
        b"[" * 5000,
        json.dumps({"type": "whiteboard", "op": {"kind": "clear"}}).encode(),
        json.dumps(MOVE | {"ref": "1"}).encode(),
        b" " * MAX_DATAGRAM + json.dumps(MOVE).encode(),
        b"\xff\xfe",
        json.dumps(MOVE).encode("utf-16"),
    ):
        socket.datagram(bad)
    assert socket.dropped_datagrams == 9 and socket._incoming.empty()
    socket.datagram(json.dumps(MOVE).encode())
    assert json.loads(socket._incoming.get_nowait()["text"]) == MOVE
