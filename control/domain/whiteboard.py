"""The meeting whiteboard as pure data: its operations, their bounds, who may make them, and the
board they fold into.

No I/O and no clock (`now` is passed in). The server orders operations: each one it accepts gets the
next sequence number of the meeting's board, and the board anyone sees is `visible(ops)`, a fold
over the operations in that order, so every client that applies the same operations in sequence
order draws the same board.

Undo takes back one's own latest operation that still counts (a drawing or an erase, since the last
clear); a clear (moderators only) is final: nothing before it comes back.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from control.domain.meeting_state import Code, MeetingState, Ok, Refused
from control.domain.rates import rate_refusal
from control.domain.roles import Capability

WIDTH, HEIGHT = 1600, 900
"""The board's coordinate space: x in [0, WIDTH], y in [0, HEIGHT] (16:9; clients scale it)."""
MAX_POINTS = 1000
"""Points of one stroke (a frame of 1,000 points stays within the signaling frame's 5,000 JSON values)."""
MAX_TEXT = 500
"""Characters of one text item."""
MAX_ERASE = 200
"""Items one erase removes."""
MAX_OPS = 5000
"""Operations of one meeting's board; over it, `whiteboard_full` (a clear does not reset the count:
the history is kept, and exported)."""
MAX_POINTS_TOTAL = 200_000
"""Points over all of a board's strokes: with MAX_OPS, bounds a board's memory and stored size."""
RATE = 20
"""Operations per person per second (a moving window of one second)."""
MIN_WIDTH, MAX_WIDTH = 1.0, 64.0
"""Line width in board units."""
MIN_SIZE, MAX_SIZE = 8.0, 200.0
"""Text size in board units."""

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class OpKind(StrEnum):
    """What one whiteboard operation does."""

    STROKE = "stroke"
    """A freehand line through `points`."""
    SHAPE = "shape"
    """A line, arrow, rectangle or ellipse from (x1, y1) to (x2, y2)."""
    TEXT = "text"
    """Text at (x, y)."""
    ERASE = "erase"
    """Removes the items (by sequence number) named in `targets`, anyone's."""
    CLEAR = "clear"
    """Removes everything (moderators only); final."""
    UNDO = "undo"
    """Takes back the author's latest operation that still counts; `undoes` names it."""


DRAWINGS: frozenset[OpKind] = frozenset({OpKind.STROKE, OpKind.SHAPE, OpKind.TEXT})


class ShapeKind(StrEnum):
    LINE = "line"
    ARROW = "arrow"
    RECT = "rect"
    ELLIPSE = "ellipse"


@dataclass(frozen=True)
class Drawing:
    """What a stroke, shape or text draws; unused fields keep their defaults."""

    color: str = "#000000"
    width: float = 4.0
    points: tuple[tuple[float, float], ...] = ()
    """A stroke's points."""
    shape: ShapeKind | None = None
    x1: float = 0.0
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0
    """A shape's corners (from, to); a text's position is (x1, y1)."""
    text: str = ""
    size: float = 24.0
    """A text's size."""


@dataclass(frozen=True)
class Op:
    """One operation the server accepted."""

    seq: int
    """Its place in the board's order, from 1, without gaps."""
    kind: OpKind
    author: str
    """The participant id that made it."""
    person: str
    """The author's person key: undo takes back one's own operations, whichever connection made them."""
    drawing: Drawing | None = None
    """For a stroke, shape or text."""
    targets: tuple[int, ...] = ()
    """For an erase: the items removed."""
    undoes: int | None = None
    """For an undo: the operation taken back."""


@dataclass(frozen=True)
class Request:
    """An operation as a participant asks for it, before the server orders it."""

    kind: OpKind
    drawing: Drawing | None = None
    targets: tuple[int, ...] = ()


# --- bounds ---------------------------------------------------------------------------------------


def _in_board(x: float, y: float) -> bool:
    return 0.0 <= x <= WIDTH and 0.0 <= y <= HEIGHT


def request_problem(request: Request) -> Refused | None:
    """Why the request is not a well-formed operation, or None: `whiteboard_op_too_large` over a size
    bound (points, text, erase targets), `invalid_argument` otherwise (a coordinate off the board, a
    colour that is not #rrggbb, a width or size out of range, a missing part)."""
    kind, d = request.kind, request.drawing
    if kind in DRAWINGS:
        if d is None:
            return Refused(Code.MISSING_ARGUMENT, f"a {kind} needs its drawing")
        if not _COLOR.fullmatch(d.color):
            return Refused(Code.INVALID_ARGUMENT, f"colour {d.color[:16]!r} is not #rrggbb")
        if not MIN_WIDTH <= d.width <= MAX_WIDTH:
            return Refused(Code.INVALID_ARGUMENT, f"width must be within [{MIN_WIDTH:g}, {MAX_WIDTH:g}]")
    elif d is not None:
        return Refused(Code.INVALID_ARGUMENT, f"a {kind} draws nothing")
    if kind is OpKind.STROKE:
        assert d is not None
        if len(d.points) > MAX_POINTS:
            return Refused(
                Code.WHITEBOARD_OP_TOO_LARGE, f"a stroke has at most {MAX_POINTS} points, not {len(d.points)}"
            )
        if len(d.points) < 1:
            return Refused(Code.MISSING_ARGUMENT, "a stroke needs at least one point")
        if not all(_in_board(x, y) for x, y in d.points):
            return Refused(Code.INVALID_ARGUMENT, f"a point lies off the board ({WIDTH} × {HEIGHT})")
    elif kind is OpKind.SHAPE:
        assert d is not None
        if d.shape is None:
            return Refused(Code.MISSING_ARGUMENT, "a shape needs its shape (line, arrow, rect, ellipse)")
        if not (_in_board(d.x1, d.y1) and _in_board(d.x2, d.y2)):
            return Refused(Code.INVALID_ARGUMENT, f"a corner lies off the board ({WIDTH} × {HEIGHT})")
    elif kind is OpKind.TEXT:
        assert d is not None
        if len(d.text) > MAX_TEXT:
            return Refused(Code.WHITEBOARD_OP_TOO_LARGE, f"a text has at most {MAX_TEXT} characters, not {len(d.text)}")
        if not d.text.strip():
            return Refused(Code.MISSING_ARGUMENT, "a text cannot be blank")
        if any(ord(ch) < 32 and ch != "\n" for ch in d.text):
            return Refused(Code.INVALID_ARGUMENT, "a text cannot contain control characters other than newline")
        if not _in_board(d.x1, d.y1):
            return Refused(Code.INVALID_ARGUMENT, f"the text lies off the board ({WIDTH} × {HEIGHT})")
        if not MIN_SIZE <= d.size <= MAX_SIZE:
            return Refused(Code.INVALID_ARGUMENT, f"size must be within [{MIN_SIZE:g}, {MAX_SIZE:g}]")
    if kind is OpKind.ERASE:
        if not request.targets:
            return Refused(Code.MISSING_ARGUMENT, "an erase names the items it removes")
        if len(request.targets) > MAX_ERASE:
            return Refused(Code.WHITEBOARD_OP_TOO_LARGE, f"an erase removes at most {MAX_ERASE} items at once")
    elif request.targets:
        return Refused(Code.INVALID_ARGUMENT, f"a {kind} names no targets")
    return None


# --- who may ---------------------------------------------------------------------------------------


def check_whiteboard(state: MeetingState, participant_id: str, kind: OpKind) -> Ok | Refused:
    """Whether the participant may make an operation of this kind: admitted, holding the whiteboard
    capability (revocable live, like chat); a clear needs a moderator."""
    if state.ended:
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    p = state.get(participant_id)
    if p is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not in the meeting")
    if p.waiting:
        return Refused(Code.ACTOR_WAITING, "people in the waiting room cannot use the whiteboard")
    if not p.holds(Capability.WHITEBOARD):
        return Refused(Code.PERMISSION_MISSING, f"the whiteboard is disabled for {participant_id}")
    if kind is OpKind.CLEAR and not p.role.moderates:
        return Refused(Code.ROLE_TOO_LOW, "only moderators clear the whiteboard")
    return Ok()


def check_view(state: MeetingState, participant_id: str) -> Ok | Refused:
    """Whether the participant sees the board: everyone admitted (the capability governs drawing only)."""
    p = state.get(participant_id)
    if p is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not in the meeting")
    if p.waiting:
        return Refused(Code.ACTOR_WAITING, "people in the waiting room do not see the whiteboard")
    return Ok()


# --- the board --------------------------------------------------------------------------------------


def _points(op: Op) -> int:
    return len(op.drawing.points) if op.drawing is not None else 0


def capacity_refusal(ops: Sequence[Op], request: Request) -> Refused | None:
    """`whiteboard_full` when the board holds MAX_OPS operations, or the request's points would take
    it past MAX_POINTS_TOTAL."""
    if len(ops) >= MAX_OPS:
        return Refused(Code.WHITEBOARD_FULL, f"the whiteboard holds at most {MAX_OPS} operations")
    added = len(request.drawing.points) if request.drawing is not None else 0
    if added and sum(_points(op) for op in ops) + added > MAX_POINTS_TOTAL:
        return Refused(Code.WHITEBOARD_FULL, f"the whiteboard holds at most {MAX_POINTS_TOTAL} stroke points")
    return None


def _since_clear(ops: Sequence[Op]) -> Sequence[Op]:
    for i in range(len(ops) - 1, -1, -1):
        if ops[i].kind is OpKind.CLEAR:
            return ops[i + 1 :]
    return ops


def visible(ops: Iterable[Op]) -> dict[int, Op]:
    """The board: sequence number → drawing operation still shown, in order. Undone operations count
    as never made (an undone erase brings its items back); an erase removes what it names; a clear
    removes everything before it."""
    ops = list(ops)
    undone = {op.undoes for op in ops if op.kind is OpKind.UNDO}
    items: dict[int, Op] = {}
    for op in ops:
        if op.seq in undone:
            continue
        if op.kind in DRAWINGS:
            items[op.seq] = op
        elif op.kind is OpKind.ERASE:
            for target in op.targets:
                items.pop(target, None)
        elif op.kind is OpKind.CLEAR:
            items.clear()
    return items


def undo_target(ops: Sequence[Op], person: str) -> int | Refused:
    """The operation an undo by `person` takes back: their latest drawing or erase since the last
    clear that is not undone yet; `nothing_to_undo` when there is none."""
    recent = _since_clear(ops)
    undone = {op.undoes for op in recent if op.kind is OpKind.UNDO}
    for op in reversed(recent):
        if op.person == person and op.seq not in undone and (op.kind in DRAWINGS or op.kind is OpKind.ERASE):
            return op.seq
    return Refused(Code.NOTHING_TO_UNDO, "nothing of yours on the whiteboard to undo")


def erase_refusal(ops: Sequence[Op], targets: Iterable[int]) -> Refused | None:
    """An erase must name items on the board (`invalid_argument` otherwise): erasing what is gone would
    make an undo of it bring back nothing."""
    shown = visible(ops)
    missing = sorted(t for t in set(targets) if t not in shown)
    if missing:
        return Refused(Code.INVALID_ARGUMENT, f"not on the whiteboard: {', '.join(map(str, missing[:10]))}")
    return None


def decide(
    state: MeetingState, ops: Sequence[Op], participant_id: str, request: Request, recent: Sequence[float], now: float
) -> Op | Refused:
    """The operation the server appends to the board for this request (its `seq` the next one), or why
    not: the participant's right, the request's shape, the person's rate, the board's capacity, then
    what the kind needs (an erase names shown items; an undo finds one's own latest operation)."""
    allowed = check_whiteboard(state, participant_id, request.kind)
    if isinstance(allowed, Refused):
        return allowed
    problem = (
        request_problem(request)
        or rate_refusal(recent, now, RATE, "whiteboard operations")
        or capacity_refusal(ops, request)
    )
    if problem is not None:
        return problem
    p = state.get(participant_id)
    assert p is not None
    seq = (ops[-1].seq if ops else 0) + 1
    if request.kind is OpKind.ERASE:
        refusal = erase_refusal(ops, request.targets)
        if refusal is not None:
            return refusal
        return Op(seq, request.kind, p.id, p.person, targets=tuple(dict.fromkeys(request.targets)))
    if request.kind is OpKind.UNDO:
        target = undo_target(ops, p.person)
        if isinstance(target, Refused):
            return target
        return Op(seq, request.kind, p.id, p.person, undoes=target)
    return Op(seq, request.kind, p.id, p.person, drawing=request.drawing)
