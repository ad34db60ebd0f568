"""The dominant speaker decision (contract/speaker.py), sans-I/O: fed RFC 6464 levels per 200 ms tick."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.speaker import (
    LONG_BLOCKS,
    MARGINS,
    MEDIUM_FRAMES,
    MEDIUM_THRESHOLD,
    RATES,
    SILENCE_HOLD,
    STEP_THRESHOLD,
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


class ReferenceDetector:
    """The detector as first written (a deque of steps per producer, every count rebuilt from it at
    every question): the oracle for the incremental one, which must decide exactly as it did."""

    def __init__(self) -> None:
        self.frames: dict[str, deque[int]] = {}
        self.dominant: str | None = None
        self.quiet_since: float | None = None

    def feed(self, producer: str, levels: bytes, elapsed: float) -> None:
        frames = self.frames.setdefault(producer, deque(maxlen=MEDIUM_FRAMES * LONG_BLOCKS))
        missing = round(elapsed / 0.02) - len(levels)
        frames.extend([0] * max(0, min(missing, MEDIUM_FRAMES * LONG_BLOCKS)))
        frames.extend(steps(level) for level in levels)

    def counts(self, producer: str) -> tuple[int, int, int]:
        frames = list(self.frames[producer])
        immediate = frames[-1] if frames else 0
        blocks = [frames[max(0, end - MEDIUM_FRAMES) : end] for end in range(len(frames), 0, -MEDIUM_FRAMES)]
        active = [sum(1 for s in block if s >= STEP_THRESHOLD) for block in blocks]
        return immediate, active[0] if active else 0, sum(1 for a in active if a >= MEDIUM_THRESHOLD)

    def scores(self, producer: str) -> tuple[float, ...]:
        counts = self.counts(producer)
        return tuple(score(k, n, rate) for k, n, rate in zip(counts, (STEPS, MEDIUM_FRAMES, LONG_BLOCKS), RATES))

    def decide(self, now: float) -> str | None:
        if self.dominant not in self.frames:
            self.dominant = None
        active = [p for p in self.frames if self.counts(p)[1] >= MEDIUM_THRESHOLD]
        if self.dominant is None:
            if active:
                self.dominant = max(active, key=lambda p: self.scores(p)[::-1])
                self.quiet_since = None
            return self.dominant
        current = self.scores(self.dominant)
        best, best_margin = None, 0.0
        for producer in active:
            if producer == self.dominant:
                continue
            challenge = self.scores(producer)
            if all(c - d > m for c, d, m in zip(challenge, current, MARGINS)):
                if best is None or challenge[1] - current[1] > best_margin:
                    best, best_margin = producer, challenge[1] - current[1]
        if best is not None:
            self.dominant = best
        if active:
            self.quiet_since = None
        elif self.quiet_since is None:
            self.quiet_since = now
        elif now - self.quiet_since >= SILENCE_HOLD:
            self.dominant = None
            self.quiet_since = None
        return self.dominant


# a tick: per producer, its levels (b"": nothing sent) or None (closed: forgotten), and the tick's length
ticks = st.lists(
    st.tuples(
        st.dictionaries(
            st.sampled_from("abcd"),
            st.one_of(
                st.none(),
                st.binary(max_size=14),
                # loud, active with the V bit, and exactly at the threshold (5 steps)
                st.sampled_from([bytes([30] * 10), bytes([0x80 | 45] * 10), bytes([57] * 10), bytes([57, 90] * 5)]),
            ),
            max_size=4,
        ),
        st.sampled_from([0.2, 0.2, 0.2, 0.05, 0.4, 1.3]),
    ),
    max_size=40,
)


@given(ticks)
@settings(max_examples=300, deadline=None)
def test_the_detector_decides_as_the_reference_does(script: list[tuple[dict[str, bytes | None], float]]) -> None:
    detector, reference = DominantSpeaker(), ReferenceDetector()
    now = 0.0
    for feeds, elapsed in script:
        for producer, levels in feeds.items():
            if levels is None:
                detector.remove(producer)
                reference.frames.pop(producer, None)
            else:
                detector.feed(producer, levels, elapsed)
                reference.feed(producer, levels, elapsed)
        now += elapsed
        assert detector.decide(now) == reference.decide(now)
