"""WebTransport datagrams on the wire (control.meetings.datagram_wire): each datagram type decoded, and
every way a datagram is malformed or too big; what the server sends encoded within one datagram."""

import json

import pytest

from control.domain.datagrams import MAX_DATAGRAM, MAX_PREVIEW_POINTS, DropReason
from control.domain.whiteboard import HEIGHT, WIDTH
from control.meetings.datagram_wire import PointerDatagram, PreviewDatagram, decode, encode, preview_frame

MOVE = {"type": "control-event", "n": 3, "session_id": "s1", "event": {"kind": "pointermove", "x": 0.5, "y": 1}}
PREVIEW = {"type": "whiteboard-preview", "n": 4, "stroke": 2, "color": "#1a73e8", "width": 4,
           "points": [[10, 20], [30.5, 40]]}  # fmt: skip


def raw(frame):
    return json.dumps(frame).encode()


def test_a_pointer_move_decodes_to_its_stream_frame():
    got = decode(raw(MOVE))
    assert isinstance(got, PointerDatagram) and got.n == 3 and got.kind == "control-event"
    assert got.frame.session_id == "s1" and got.frame.event.kind == "pointermove" and got.frame.event.y == 1.0


def test_a_preview_decodes_to_a_stroke_drawing():
    got = decode(raw(PREVIEW))
    assert isinstance(got, PreviewDatagram) and (got.n, got.stroke, got.kind) == (4, 2, "whiteboard-preview")
    assert got.drawing.color == "#1a73e8" and got.drawing.width == 4.0
    assert got.drawing.points == ((10.0, 20.0), (30.5, 40.0))


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"\xff\xfe",
        raw(MOVE).decode().encode("utf-16"),
        b"[" * 1000,
        b"[1, 2]",
        b'"control-event"',
        raw({"type": "whiteboard", "op": {"kind": "clear"}}),  # ordered frames never travel as datagrams
        raw({"type": "ping"}),
        raw({k: v for k, v in MOVE.items() if k != "n"}),  # no number: cannot be told stale
        raw(MOVE | {"n": 0}),
        raw(MOVE | {"n": "3"}),
        raw(MOVE | {"ref": "1"}),  # nothing answers a datagram
        raw(MOVE | {"extra": 1}),
        raw(MOVE | {"event": {"kind": "pointermove", "x": 1.5, "y": 0}}),  # off the screen
        raw(MOVE | {"event": {"kind": "teleport"}}),
        raw(PREVIEW | {"points": []}),
        raw(PREVIEW | {"points": [[1, 2, 3]]}),
        raw(PREVIEW | {"points": [[WIDTH + 1, 0]]}),  # off the board
        raw(PREVIEW | {"points": [[0, HEIGHT + 1]]}),
        raw(PREVIEW | {"points": [[0, 0]] * (MAX_PREVIEW_POINTS + 1)}),
        raw(PREVIEW | {"color": "blue"}),
        raw(PREVIEW | {"width": 0.5}),
        raw(PREVIEW | {"ref": "2"}),
        raw({k: v for k, v in PREVIEW.items() if k != "stroke"}),
        raw(PREVIEW | {"author": "someone"}),  # the server names the author, never the client
    ],
)
def test_malformed_datagrams(data):
    assert decode(data) is DropReason.MALFORMED


def test_too_big_before_anything_else():
    assert decode(b" " * (MAX_DATAGRAM - len(raw(MOVE))) + raw(MOVE)) == decode(raw(MOVE))
    assert decode(b" " * (MAX_DATAGRAM + 1 - len(raw(MOVE))) + raw(MOVE)) is DropReason.TOO_BIG
    assert decode(b"x" * (MAX_DATAGRAM + 1)) is DropReason.TOO_BIG


def test_the_largest_preview_a_client_sends_fits_relayed():
    """MAX_PREVIEW_POINTS integer points on the board, relayed with a long author id, fit one datagram."""
    big = PREVIEW | {"n": 2**40, "stroke": 2**40, "points": [[WIDTH, HEIGHT]] * MAX_PREVIEW_POINTS, "width": 64}
    preview = decode(raw(big) if len(raw(big)) <= MAX_DATAGRAM else b"")
    assert isinstance(preview, PreviewDatagram)
    relayed = encode(preview_frame("p-" + "f" * 32, 2**40, preview))
    assert len(relayed) <= MAX_DATAGRAM
    assert json.loads(relayed) == {"type": "whiteboard-preview", "author": "p-" + "f" * 32, "n": 2**40,
        "stroke": 2**40, "color": "#1a73e8", "width": 64, "points": [[WIDTH, HEIGHT]] * MAX_PREVIEW_POINTS}  # fmt: skip
