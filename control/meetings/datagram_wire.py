"""WebTransport datagrams on the wire (docs/signaling.md, "Datagrams"): each one JSON object, UTF-8, at
most MAX_DATAGRAM bytes, never with a `ref` (nothing answers a datagram).

Client → server:
- `{"type": "control-event", "n", "session_id", "event"}`: a remote-control pointer move (as the
  stream's `control-event`, with `n`).
- `{"type": "whiteboard-preview", "n", "stroke", "color", "width", "points"}`: the stroke being drawn so
  far (at most MAX_PREVIEW_POINTS points); `stroke` numbers the author's strokes.

Server → client:
- `{"type": "control-input", "session_id", "seq", "event"}`: as the stream's frame; `seq` orders it.
- `{"type": "whiteboard-preview", "author", "n", "stroke", "color", "width", "points"}`: `n` grows per
  meeting; a receiver keeps the greatest per author.

`decode` turns bytes into a typed datagram or the reason it is dropped; `encode` is its reverse for
what the server sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from control.domain.datagrams import MAX_DATAGRAM, MAX_PREVIEW_POINTS, DropReason
from control.domain.whiteboard import Drawing, OpKind, Request, request_problem
from control.meetings.consent_wire import ControlEventFrame

Number = Annotated[int, Field(ge=1, le=2**53)]
"""A datagram's `n`: grows over the sender's session."""


class _PointerIn(ControlEventFrame):
    n: Number


class _PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["whiteboard-preview"]
    n: Number
    stroke: Annotated[int, Field(ge=0, le=2**53)]
    color: Annotated[str, Field(max_length=16)]
    width: Annotated[float, Field(ge=0, le=1000)]
    points: Annotated[list[tuple[float, float]], Field(min_length=1, max_length=MAX_PREVIEW_POINTS)]


@dataclass(frozen=True)
class PointerDatagram:
    """A controlling moderator's pointer move."""

    n: int
    frame: ControlEventFrame
    """The move as the stream's `control-event` frame (its rules apply)."""

    kind = "control-event"


@dataclass(frozen=True)
class PreviewDatagram:
    """The stroke a participant is drawing, so far."""

    n: int
    stroke: int
    drawing: Drawing
    """A stroke's drawing, within the board's bounds (control.domain.whiteboard.request_problem)."""

    kind = "whiteboard-preview"


Datagram = PointerDatagram | PreviewDatagram


def decode(data: bytes) -> Datagram | DropReason:
    """The datagram `data` holds, or why it is dropped (`too_big` or `malformed`)."""
    if len(data) > MAX_DATAGRAM:
        return DropReason.TOO_BIG
    try:
        frame = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return DropReason.MALFORMED
    if not isinstance(frame, dict):
        return DropReason.MALFORMED
    try:
        if frame.get("type") == "control-event":
            pointer = _PointerIn.model_validate_json(data)
            if pointer.ref is not None:
                return DropReason.MALFORMED
            return PointerDatagram(pointer.n, pointer)
        if frame.get("type") == "whiteboard-preview":
            preview = _PreviewIn.model_validate_json(data)
            drawing = Drawing(preview.color, preview.width, points=tuple(preview.points))
            if request_problem(Request(OpKind.STROKE, drawing)) is not None:
                return DropReason.MALFORMED
            return PreviewDatagram(preview.n, preview.stroke, drawing)
    except ValidationError:
        return DropReason.MALFORMED
    return DropReason.MALFORMED


def encode(frame: dict[str, Any]) -> bytes:
    """A frame the server sends as one datagram (compact JSON)."""
    return json.dumps(frame, separators=(",", ":")).encode()


def preview_frame(author: str, n: int, preview: PreviewDatagram) -> dict[str, Any]:
    """The preview as relayed to the author's fellow participants."""
    d = preview.drawing
    points = [[_compact(x), _compact(y)] for x, y in d.points]
    return {"type": "whiteboard-preview", "author": author, "n": n, "stroke": preview.stroke, "color": d.color,
            "width": _compact(d.width), "points": points}  # fmt: skip


def _compact(value: float) -> float | int:
    """A whole number without its ".0": what the client sent fits relayed."""
    return int(value) if value.is_integer() else value
