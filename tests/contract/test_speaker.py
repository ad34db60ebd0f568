"""The dominant speaker decision (contract/speaker.py), sans-I/O: fed RFC 6464 levels per 200 ms tick."""

from __future__ import annotations

import pytest

from contract.speaker import (
    LONG_BLOCKS,
    MEDIUM_FRAMES,
    RATES,
    SILENCE_HOLD,
    STEPS,
    DominantSpeaker,
    score,
    steps,
)

TICK = 0.2
FRAMES = round(TICK / 0.02)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0


def run(detector: DominantSpeaker, clock: Clock, levels: dict[str, int | None], ticks: int) -> list[object]:
    """`levels`: a constant level per producer for `ticks` ticks (None: it sends nothing, e.g. DTX)."""
    decided = []
    for _ in range(ticks):
        for producer, level in levels.items():
            detector.feed(producer, b"" if level is None else bytes([level] * FRAMES), TICK)
        clock.now += TICK
        decided.append(detector.decide(clock.now))
    return decided


@pytest.mark.parametrize(("total", "rate"), [(STEPS, RATES[0]), (MEDIUM_FRAMES, RATES[1]), (LONG_BLOCKS, RATES[2])])
def test_scores_grow_with_activity(total: int, rate: float) -> None:
    scores = [score(k, total, rate) for k in range(total + 1)]
    assert scores == sorted(scores) and len(set(scores)) == len(scores)


def test_steps_of_a_level() -> None:
    assert steps(0) == STEPS and steps(0x80) == STEPS  # the V bit is ignored
    assert steps(127) == 0 and steps(85) == 0 and steps(60) == 5


def test_the_louder_wins_and_a_short_interjection_does_not_take_the_floor() -> None:
    detector, clock = DominantSpeaker(), Clock()
    assert run(detector, clock, {"a": 10, "b": 40}, 3)[-1] == "a"
    # b speaks up for 40 ms while a goes on: a keeps the floor
    detector.feed("a", bytes([10] * FRAMES), TICK)
    detector.feed("b", bytes([127] * (FRAMES - 2) + [5, 5]), TICK)
    clock.now += TICK
    assert detector.decide(clock.now) == "a"
    # both talk at once, b louder: no flapping, a keeps it
    assert set(run(detector, clock, {"a": 30, "b": 5}, 10)) == {"a"}
    # a stops: b takes over within a second (5 ticks)
    assert run(detector, clock, {"a": 127, "b": 5}, 5)[-1] == "b"


def test_silence_and_missing_packets_end_the_speaker_after_the_hold() -> None:
    detector, clock = DominantSpeaker(), Clock()
    assert run(detector, clock, {"a": 20}, 3)[-1] == "a"
    decided = run(detector, clock, {"a": None}, int(SILENCE_HOLD / TICK) + 6)  # no packets: silence
    assert decided[0] == "a" and decided[-1] is None


def test_a_removed_producer_is_no_candidate() -> None:
    detector, clock = DominantSpeaker(), Clock()
    assert run(detector, clock, {"a": 10, "b": 30}, 3)[-1] == "a"
    detector.remove("a")
    assert detector.decide(clock.now) == "b"
    detector.keep_only(set())
    assert detector.decide(clock.now) is None
