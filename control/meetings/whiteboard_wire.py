"""Whiteboard operations on the wire and in the store: one JSON shape for the `whiteboard-op` frame,
the replay, the REST export and the stored row's body (control.domain.whiteboard holds the rules).

An operation: `{"seq", "kind", "author", ...}` and, by kind,
- stroke: `color`, `width`, `points` [[x, y], ...]
- shape: `shape` (line, arrow, rect, ellipse), `color`, `width`, `x1`, `y1`, `x2`, `y2`
- text: `text`, `color`, `size`, `x`, `y`
- erase: `targets` [seq, ...]
- clear: nothing more
- undo: `undoes` (the seq taken back)
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from control.domain.whiteboard import MAX_ERASE, MAX_POINTS, MAX_TEXT, Drawing, Op, OpKind, Request, ShapeKind

Coordinate = Annotated[float, Field(ge=-1e6, le=1e6)]


class OpIn(BaseModel):
    """An operation as a client asks for it (`whiteboard` frame's `op`); the bounds that keep a frame
    cheap are checked here, the rules (control.domain.whiteboard.request_problem) after."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: OpKind
    color: Annotated[str, Field(max_length=16)] = "#000000"
    width: Annotated[float, Field(ge=0, le=1000)] = 4.0
    points: Annotated[list[tuple[Coordinate, Coordinate]], Field(max_length=MAX_POINTS + 1)] = []
    shape: ShapeKind | None = None
    x1: Coordinate = 0.0
    y1: Coordinate = 0.0
    x2: Coordinate = 0.0
    y2: Coordinate = 0.0
    text: Annotated[str, Field(max_length=MAX_TEXT + 1)] = ""
    size: Annotated[float, Field(ge=0, le=1000)] = 24.0
    x: Coordinate = 0.0
    y: Coordinate = 0.0
    targets: Annotated[list[Annotated[int, Field(ge=1, le=2**31)]], Field(max_length=MAX_ERASE + 1)] = []

    def request(self) -> Request:
        kind = self.kind
        drawing = None
        if kind is OpKind.STROKE:
            drawing = Drawing(self.color, self.width, points=tuple((float(x), float(y)) for x, y in self.points))
        elif kind is OpKind.SHAPE:
            drawing = Drawing(self.color, self.width, shape=self.shape, x1=self.x1, y1=self.y1, x2=self.x2, y2=self.y2)
        elif kind is OpKind.TEXT:
            drawing = Drawing(self.color, x1=self.x, y1=self.y, text=self.text, size=self.size)
        return Request(kind, drawing, tuple(self.targets))


class WhiteboardFrame(BaseModel):
    """Client → server: one operation."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["whiteboard"]
    op: OpIn
    ref: Annotated[str, Field(max_length=64)] | None = None


class WhiteboardSync(BaseModel):
    """Client → server: the operations after `after` (0: the whole board)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["whiteboard-sync"]
    after: Annotated[int, Field(ge=0, le=2**31)] = 0
    ref: Annotated[str, Field(max_length=64)] | None = None


def body(op: Op) -> dict[str, Any]:
    """What the kind needs (the stored row's `body`)."""
    d = op.drawing
    if op.kind is OpKind.STROKE and d is not None:
        return {"color": d.color, "width": d.width, "points": [[x, y] for x, y in d.points]}
    if op.kind is OpKind.SHAPE and d is not None:
        shape = str(d.shape) if d.shape else None
        return {"shape": shape, "color": d.color, "width": d.width, "x1": d.x1, "y1": d.y1, "x2": d.x2, "y2": d.y2}
    if op.kind is OpKind.TEXT and d is not None:
        return {"text": d.text, "color": d.color, "size": d.size, "x": d.x1, "y": d.y1}
    if op.kind is OpKind.ERASE:
        return {"targets": list(op.targets)}
    if op.kind is OpKind.UNDO:
        return {"undoes": op.undoes}
    return {}


def encode(op: Op) -> dict[str, Any]:
    """The operation as frames and the REST API carry it."""
    return {"seq": op.seq, "kind": str(op.kind), "author": op.author, **body(op)}


def decode(seq: int, kind: str, author: str, person: str, data: dict[str, Any]) -> Op:
    """An operation from its stored row (written by `body`)."""
    k = OpKind(kind)
    if k is OpKind.STROKE:
        points = tuple((float(x), float(y)) for x, y in data["points"])
        return Op(seq, k, author, person, Drawing(data["color"], data["width"], points=points))
    if k is OpKind.SHAPE:
        shape = ShapeKind(data["shape"])
        corners = {key: data[key] for key in ("x1", "y1", "x2", "y2")}
        return Op(seq, k, author, person, Drawing(data["color"], data["width"], shape=shape, **corners))
    if k is OpKind.TEXT:
        drawing = Drawing(data["color"], x1=data["x"], y1=data["y"], text=data["text"], size=data["size"])
        return Op(seq, k, author, person, drawing)
    if k is OpKind.ERASE:
        return Op(seq, k, author, person, targets=tuple(data["targets"]))
    if k is OpKind.UNDO:
        return Op(seq, k, author, person, undoes=data["undoes"])
    return Op(seq, k, author, person)
