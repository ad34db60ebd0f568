"""The whiteboard's pure rules: who may do what (every role × waiting × capability × kind), the
bounds of an operation, the fold that makes the board, undo and erase, and `decide`."""

import itertools
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control.domain import whiteboard as wb
from control.domain.meeting_state import Code, MeetingState, Ok, Participant, Refused
from control.domain.roles import ALL_CAPABILITIES, Capability, Role
from control.domain.whiteboard import Drawing, Op, OpKind, Request, ShapeKind


def person(pid, role=Role.PARTICIPANT, *, waiting=False, board=True):
    caps = ALL_CAPABILITIES if board else ALL_CAPABILITIES - {Capability.WHITEBOARD}
    return Participant(pid, "person-" + pid, True, role=role, waiting=waiting, capabilities=caps)


def meeting(*people, **kw):
    state = MeetingState(**kw)
    for p in people:
        state = state.put(p)
    return state


def stroke(*points, color="#000000", width=4.0):
    return Drawing(color, width, points=tuple(points or ((1.0, 1.0),)))


def op(seq, kind=OpKind.STROKE, person="a", **kw):
    if kind in wb.DRAWINGS and "drawing" not in kw:
        kw["drawing"] = stroke()
    return Op(seq, kind, "p-" + person, person, **kw)


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "waiting", "board", "kind"),
    list(itertools.product(Role, (False, True), (False, True), OpKind)),
)
def test_check_whiteboard_over_every_profile_and_kind(role, waiting, board, kind):
    state = meeting(person("x", role, waiting=waiting, board=board))
    got = wb.check_whiteboard(state, "x", kind)
    if waiting:
        expected = Code.ACTOR_WAITING
    elif not board:
        expected = Code.PERMISSION_MISSING
    elif kind is OpKind.CLEAR and not role.moderates:
        expected = Code.ROLE_TOO_LOW
    else:
        expected = None
    assert (got.code if isinstance(got, Refused) else None) == expected


@pytest.mark.parametrize("kind", list(OpKind))
def test_nobody_draws_in_an_ended_meeting_or_from_outside(kind):
    state = meeting(person("x", Role.ORGANIZER))
    assert wb.check_whiteboard(replace(state, ended=True), "x", kind).code is Code.MEETING_ENDED
    assert wb.check_whiteboard(state, "ghost", kind).code is Code.UNKNOWN_PARTICIPANT


@pytest.mark.parametrize(("role", "waiting", "board"), list(itertools.product(Role, (False, True), (False, True))))
def test_everyone_admitted_sees_the_board_whatever_their_right(role, waiting, board):
    state = meeting(person("x", role, waiting=waiting, board=board))
    got = wb.check_view(state, "x")
    assert isinstance(got, Refused) == waiting
    assert wb.check_view(state, "ghost").code is Code.UNKNOWN_PARTICIPANT


# --- bounds ------------------------------------------------------------------------------------


def test_well_formed_requests_pass():
    shape = Drawing("#ff0000", 2.0, shape=ShapeKind.ARROW, x1=0, y1=0, x2=wb.WIDTH, y2=wb.HEIGHT)
    text = Drawing("#00ff00", x1=10, y1=10, text="hello\nworld", size=wb.MAX_SIZE)
    for request in (
        Request(OpKind.STROKE, stroke(*[(1.0, 1.0)] * wb.MAX_POINTS)),
        Request(OpKind.SHAPE, shape),
        Request(OpKind.TEXT, replace(text, text="x" * wb.MAX_TEXT)),
        Request(OpKind.ERASE, targets=tuple(range(1, wb.MAX_ERASE + 1))),
        Request(OpKind.CLEAR),
        Request(OpKind.UNDO),
    ):
        assert wb.request_problem(request) is None, request.kind


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (Request(OpKind.STROKE, stroke(*[(1.0, 1.0)] * (wb.MAX_POINTS + 1))), Code.WHITEBOARD_OP_TOO_LARGE),
        (Request(OpKind.TEXT, Drawing(text="x" * (wb.MAX_TEXT + 1))), Code.WHITEBOARD_OP_TOO_LARGE),
        (Request(OpKind.ERASE, targets=tuple(range(1, wb.MAX_ERASE + 2))), Code.WHITEBOARD_OP_TOO_LARGE),
        (Request(OpKind.STROKE), Code.MISSING_ARGUMENT),
        (Request(OpKind.STROKE, Drawing()), Code.MISSING_ARGUMENT),
        (Request(OpKind.SHAPE, Drawing()), Code.MISSING_ARGUMENT),
        (Request(OpKind.TEXT, Drawing(text="  ")), Code.MISSING_ARGUMENT),
        (Request(OpKind.ERASE), Code.MISSING_ARGUMENT),
        (Request(OpKind.STROKE, stroke((wb.WIDTH + 1.0, 0.0))), Code.INVALID_ARGUMENT),
        (Request(OpKind.STROKE, stroke((0.0, -1.0))), Code.INVALID_ARGUMENT),
        (Request(OpKind.STROKE, stroke(color="red")), Code.INVALID_ARGUMENT),
        (Request(OpKind.STROKE, stroke(color="#12345")), Code.INVALID_ARGUMENT),
        (Request(OpKind.STROKE, stroke(width=0.5)), Code.INVALID_ARGUMENT),
        (Request(OpKind.STROKE, stroke(width=wb.MAX_WIDTH + 1)), Code.INVALID_ARGUMENT),
        (Request(OpKind.SHAPE, Drawing(shape=ShapeKind.RECT, x2=wb.WIDTH + 1)), Code.INVALID_ARGUMENT),
        (Request(OpKind.TEXT, Drawing(text="a\x00b")), Code.INVALID_ARGUMENT),
        (Request(OpKind.TEXT, Drawing(text="a", size=wb.MAX_SIZE + 1)), Code.INVALID_ARGUMENT),
        (Request(OpKind.TEXT, Drawing(text="a", x1=-1)), Code.INVALID_ARGUMENT),
        (Request(OpKind.CLEAR, stroke()), Code.INVALID_ARGUMENT),
        (Request(OpKind.UNDO, targets=(1,)), Code.INVALID_ARGUMENT),
    ],
)
def test_malformed_requests_are_refused_with_their_code(request_, code):
    assert wb.request_problem(request_).code is code


def test_capacity_counts_operations_and_stroke_points():
    full = [op(i) for i in range(1, wb.MAX_OPS + 1)]
    assert wb.capacity_refusal(full, Request(OpKind.UNDO)).code is Code.WHITEBOARD_FULL
    assert wb.capacity_refusal(full[:-1], Request(OpKind.UNDO)) is None
    many = [op(1, drawing=stroke(*[(1.0, 1.0)] * (wb.MAX_POINTS_TOTAL - 1)))]
    assert wb.capacity_refusal(many, Request(OpKind.STROKE, stroke())) is None
    assert wb.capacity_refusal(many, Request(OpKind.STROKE, stroke((1, 1), (2, 2)))).code is Code.WHITEBOARD_FULL
    assert wb.capacity_refusal(many, Request(OpKind.CLEAR)) is None


# --- the board ---------------------------------------------------------------------------------


def test_the_fold_draws_erases_undoes_and_clears():
    ops = [op(1), op(2, person="b"), op(3, OpKind.ERASE, targets=(1,))]
    assert list(wb.visible(ops)) == [2]
    ops.append(op(4, OpKind.UNDO, undoes=3))  # the erase taken back: its item returns
    assert list(wb.visible(ops)) == [1, 2]
    ops.append(op(5, OpKind.CLEAR, person="m"))
    ops.append(op(6, person="b"))
    assert list(wb.visible(ops)) == [6]


def test_undo_takes_back_ones_own_latest_operation_that_counts_since_the_last_clear():
    ops = [op(1), op(2, person="b"), op(3), op(4, OpKind.ERASE, person="b", targets=(1,))]
    assert wb.undo_target(ops, "a") == 3
    assert wb.undo_target(ops, "b") == 4  # an erase is undone too
    ops.append(op(5, OpKind.UNDO, undoes=3))
    assert wb.undo_target(ops, "a") == 1  # then the one before
    ops.append(op(6, OpKind.UNDO, undoes=1))
    assert wb.undo_target(ops, "a").code is Code.NOTHING_TO_UNDO
    assert wb.undo_target([*ops, op(7, OpKind.CLEAR, person="m")], "b").code is Code.NOTHING_TO_UNDO
    assert wb.undo_target([], "a").code is Code.NOTHING_TO_UNDO


def test_an_erase_names_items_on_the_board():
    ops = [op(1), op(2), op(3, OpKind.ERASE, targets=(2,))]
    assert wb.erase_refusal(ops, (1,)) is None
    assert wb.erase_refusal(ops, (2,)).code is Code.INVALID_ARGUMENT
    assert wb.erase_refusal(ops, (3,)).code is Code.INVALID_ARGUMENT  # the erase itself is no item


kinds = st.sampled_from([OpKind.STROKE, OpKind.ERASE, OpKind.UNDO, OpKind.CLEAR])


@given(st.lists(st.tuples(kinds, st.sampled_from("ab"), st.integers(1, 30)), max_size=30))
def test_decide_builds_boards_whose_undo_is_exactly_leaving_the_operation_out(script):
    """Operations made through `decide` (whatever is refused is skipped): the board never shows an
    undone operation, and is the board of the same operations with the undone ones left out."""
    state = meeting(person("a", Role.MODERATOR), person("b", Role.MODERATOR))
    ops: list[Op] = []
    for kind, who, n in script:
        request = Request(kind, stroke() if kind is OpKind.STROKE else None, (n,) if kind is OpKind.ERASE else ())
        decided = wb.decide(state, ops, who, request, (), 0.0)
        if isinstance(decided, Op):
            assert decided.seq == len(ops) + 1 and decided.author == who
            ops.append(decided)
    undone = {o.undoes for o in ops if o.kind is OpKind.UNDO}
    board = wb.visible(ops)
    assert not undone & set(board)
    kept = [o for o in ops if o.seq not in undone and o.kind is not OpKind.UNDO]
    assert wb.visible(kept) == board
    assert all(o.kind in wb.DRAWINGS for o in board.values())


# --- decide ------------------------------------------------------------------------------------


def test_decide_checks_the_right_then_the_shape_then_the_rate_then_the_capacity():
    state = meeting(person("a"), person("n", board=False))
    good = Request(OpKind.STROKE, stroke())
    assert wb.decide(state, [], "n", Request(OpKind.STROKE, stroke(color="x")), (), 0).code is Code.PERMISSION_MISSING
    assert wb.decide(state, [], "a", Request(OpKind.STROKE, stroke(color="x")), (), 0).code is Code.INVALID_ARGUMENT
    burst = [0.5] * wb.RATE
    assert wb.decide(state, [], "a", good, burst, 1.0).code is Code.RATE_LIMITED
    assert isinstance(wb.decide(state, [], "a", good, burst, 1.5), Op)  # the window moved on
    full = [op(i) for i in range(1, wb.MAX_OPS + 1)]
    assert wb.decide(state, full, "a", good, (), 0).code is Code.WHITEBOARD_FULL
    made = wb.decide(state, [op(1), op(2)], "a", good, (), 0)
    assert made == Op(3, OpKind.STROKE, "a", "person-a", drawing=stroke())


def test_decide_erase_deduplicates_and_undo_names_its_target():
    state = meeting(person("a"))
    ops = [Op(1, OpKind.STROKE, "a", "person-a", stroke())]
    erased = wb.decide(state, ops, "a", Request(OpKind.ERASE, targets=(1, 1)), (), 0)
    assert erased.targets == (1,)
    undo = wb.decide(state, [*ops, erased], "a", Request(OpKind.UNDO), (), 0)
    assert undo.undoes == 2 and undo.seq == 3
    assert isinstance(wb.decide(state, [], "a", Request(OpKind.UNDO), (), 0), Refused)
    assert isinstance(wb.check_whiteboard(state, "a", OpKind.STROKE), Ok)
