"""Views that wait (control.domain.pending_views): which ids may wait, the latest view per consumer,
the bound, and which become due."""

from __future__ import annotations

import pytest

from control.domain.pending_views import (
    MAX_PENDING,
    PendingViews,
    consumer_number,
    due,
    may_wait,
    settled,
    want,
)


@pytest.mark.parametrize(
    ("consumer_id", "number"),
    [
        ("p1.c1", 1),
        ("p1.c17", 17),
        ("p1.c0", 0),
        ("p1.c", None),
        ("p1.c01", None),
        ("p1.c-1", None),
        ("p1.c1x", None),
        ("p1.c٣", None),  # a digit, but not an ASCII one
        ("p2.c1", None),
        ("xp1.c1", None),
        ("p1.microphone.1", None),
        ("c1", None),
        ("", None),
    ],
)
def test_consumer_number(consumer_id: str, number: int | None) -> None:
    assert consumer_number("p1", consumer_id) == number


@pytest.mark.parametrize(
    ("consumer_id", "last_given", "waits"),
    [
        ("p1.c3", 2, True),
        ("p1.c3", 3, False),  # given already: it is gone, not coming
        ("p1.c3", 5, False),
        ("p1.c1", 0, True),
        ("p2.c3", 0, False),
        ("p1.x3", 0, False),
    ],
)
def test_only_a_consumer_still_to_come_may_wait(consumer_id: str, last_given: int, waits: bool) -> None:
    assert may_wait("p1", consumer_id, last_given) is waits


def test_the_latest_view_per_consumer_is_kept_newest_last() -> None:
    pending = want(want(want(PendingViews(), "a", (1, 1)), "b", (2, 2)), "a", (3, 3))
    assert list(pending.sizes.items()) == [("b", (2, 2)), ("a", (3, 3))]


def test_at_most_max_pending_wait_the_oldest_goes_first() -> None:
    pending = PendingViews()
    for n in range(MAX_PENDING + 2):
        pending = want(pending, f"c{n}", (n, n))
    assert list(pending.sizes) == [f"c{n}" for n in range(2, MAX_PENDING + 2)]
    pending = want(pending, "c2", (0, 0))  # wanted again: the newest, nothing dropped
    assert len(pending.sizes) == MAX_PENDING and list(pending.sizes)[-1] == "c2"


def test_due_views_leave_in_the_order_wanted_the_rest_wait() -> None:
    pending = want(want(want(PendingViews(), "c", (3, 3)), "a", (1, 1)), "b", (2, 2))
    now, rest = due(pending, ["b", "c", "z"])
    assert now == [("c", (3, 3)), ("b", (2, 2))]
    assert dict(rest.sizes) == {"a": (1, 1)}
    assert due(rest, []) == ([], rest)
    assert due(PendingViews(), ["a"]) == ([], PendingViews())


def test_a_view_that_took_effect_settles_the_waiting_one() -> None:
    pending = want(want(PendingViews(), "a", (1, 1)), "b", (2, 2))
    assert dict(settled(pending, "a").sizes) == {"b": (2, 2)}
    assert settled(pending, "z") is pending
    assert settled(PendingViews(), "a") == PendingViews()


def test_pending_views_are_values() -> None:
    before = want(PendingViews(), "a", (1, 1))
    after = want(before, "b", (2, 2))
    assert dict(before.sizes) == {"a": (1, 1)} and dict(after.sizes) == {"a": (1, 1), "b": (2, 2)}
    with pytest.raises(TypeError):
        before.sizes["c"] = (3, 3)  # type: ignore[index]
