"""Which simulcast layers a publisher encodes (control.domain.encodings): every subset of wanted
layers, the hold before turning off, and the rate of `layers` frames under churn."""

from itertools import chain, combinations

import pytest

from control.domain.encodings import (
    HOLD_S,
    Consuming,
    LayerDemand,
    active_layers,
    next_check,
    to_tell,
    told,
    update,
    wanted_layers,
)


def subsets(n: int) -> list[frozenset[int]]:
    return [frozenset(c) for c in chain.from_iterable(combinations(range(n), k) for k in range(n + 1))]


def test_wanted_layers_are_those_of_shown_consumers() -> None:
    assert wanted_layers([]) == frozenset()
    assert wanted_layers([Consuming(2, True), Consuming(0, False)]) == {2}
    assert wanted_layers([Consuming(1, True), Consuming(1, True), Consuming(0, True)]) == {0, 1}
    assert wanted_layers([Consuming(0, False), Consuming(2, False)]) == frozenset()


def test_a_new_track_encodes_every_layer_until_the_hold_passes_without_consumers() -> None:
    demand = LayerDemand.published(3, now=10.0)
    assert to_tell(demand, 10.0) is None
    assert next_check(demand, 10.0) == 10.0 + HOLD_S
    assert to_tell(demand, 10.0 + HOLD_S - 0.01) is None
    assert to_tell(demand, 10.0 + HOLD_S) == frozenset()


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_every_change_of_wanted_layers(layers: int) -> None:
    for before in subsets(layers):
        for after in subsets(layers):
            demand = update(LayerDemand.published(layers, 0.0), before, 0.0)
            demand = told(demand, active_layers(demand, 100.0))  # settled: told exactly `before`
            demand = update(update(demand, before, 100.0), after, 101.0)
            assert demand.told == before
            # a layer wanted now is on at once; one wanted no more stays on for the hold
            assert active_layers(demand, 101.0) == before | after
            assert to_tell(demand, 101.0) == (None if after <= before else before | after)
            expiring = before - after
            assert next_check(demand, 101.0) == (101.0 + HOLD_S if expiring else None)
            # after the hold only what is wanted stays
            assert active_layers(demand, 101.0 + HOLD_S) == after
            settled = told(demand, before | after)
            assert to_tell(settled, 101.0 + HOLD_S) == (after if expiring else None)
            assert next_check(settled, 101.0 + HOLD_S) is None


def test_a_wanted_layer_stays_on_however_long_nothing_changes() -> None:
    demand = update(LayerDemand.published(3, 0.0), frozenset({1}), 0.0)
    demand = told(demand, frozenset({1}))
    assert active_layers(demand, 1e6) == {1}
    assert next_check(demand, 1e6) is None


def test_layers_out_of_range_are_ignored() -> None:
    demand = update(LayerDemand.published(2, 0.0), frozenset({0, 5, -1}), 0.0)
    assert demand.wanted == {0}
    assert active_layers(demand, HOLD_S) == {0}


def test_churn_within_the_hold_tells_the_publisher_once() -> None:
    """A tile resized up and down every 100 ms: the top layer is turned on once, off once after."""
    demand = told(update(LayerDemand.published(3, 0.0), frozenset({0}), 0.0), frozenset({0}))
    frames = []
    now = 10.0  # the layers of the publication's start have expired
    for step in range(50):
        demand = update(demand, frozenset({2} if step % 2 == 0 else {0}), now)
        tell = to_tell(demand, now)
        if tell is not None:
            frames.append(tell)
            demand = told(demand, tell)
        now += 0.1
    demand = update(demand, frozenset({0}), now)
    check = next_check(demand, now)
    assert check is not None
    tell = to_tell(demand, check)
    assert frames == [{0, 2}]
    assert tell == {0}
