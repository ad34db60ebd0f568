"""Dominant speaker identification over RFC 6464 audio levels, sans-I/O.

In the spirit of Volfin & Cohen ("Dominant speaker identification for multipoint
videoconferencing", 2013): each audio producer's levels (one per packet, about 20 ms) become speech
activity at three time scales, and a challenger replaces the dominant speaker only when it is more
active at all three, by a margin at each. So a cough or a short interjection does not take the
floor, and two people talking at once do not make it flap.

- immediate: how many of `STEPS` loudness steps above silence the latest frame reaches;
- medium: how many of the last `MEDIUM_FRAMES` frames were active (at least `STEP_THRESHOLD` steps);
- long: how many of the last `LONG_BLOCKS` medium blocks were active (at least `MEDIUM_THRESHOLD`).

Each count k of n becomes a score: the log-likelihood of k active sub-units under speech (binomial,
p = 1/2) against silence (exponential, rate λ), which grows with k. The engine feeds levels and asks
for a decision every `Engine` tick (engine/engine.py); the producers it feeds are the open ones, so a
muted or revoked producer (its gate closed: the fast path records no level) is never a candidate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Set as AbstractSet

FRAME = 0.02
"""Seconds of audio per level (one packet): frames missing in a tick (DTX, loss) count as silence."""
SILENCE_LEVEL = 85
"""RFC 6464 level (-dBov) at or above which a frame is silent."""
STEP_DB = 5
STEPS = 13
STEP_THRESHOLD = 5
"""A frame is active from this many steps: louder than -60 dBov."""
MEDIUM_FRAMES = 5
MEDIUM_THRESHOLD = 3
LONG_BLOCKS = 10
"""So the long window is 1 s of audio."""
RATES = (3.0, 2.0, 2.5)
"""λ of the silence model at each scale: above ln(n), so that a score grows with its count."""
MARGINS = (3.0, 2.0, 0.0)
"""How much a challenger's score must exceed the dominant speaker's, at each scale."""
SILENCE_HOLD = 3.0
"""Seconds the dominant speaker stays once nobody is active; then there is none."""


def score(active: int, total: int, rate: float) -> float:
    """log P(active of total | speech) - log P(active | silence)."""
    speech = math.log(math.comb(total, active)) + total * math.log(0.5)
    silence = math.log(rate) - rate * active
    return speech - silence


def steps(level: int) -> int:
    """Loudness steps above silence of an RFC 6464 byte (its V bit ignored)."""
    return max(0, min(STEPS, (SILENCE_LEVEL - (level & 0x7F)) // STEP_DB))


WINDOW = MEDIUM_FRAMES * LONG_BLOCKS
"""Frames a speaker's history keeps: the long window."""
_STEPS = bytes(steps(level) for level in range(256))
"""bytes.translate table: RFC 6464 bytes to their steps, a whole tick's levels in one C call."""
_ACTIVE = bytes(int(step >= STEP_THRESHOLD) for step in range(256))
"""bytes.translate table: steps to 1 for an active frame, else 0."""


@functools.cache
def _score(active: int, total: int, rate: float) -> float:
    return score(active, total, rate)  # a few dozen distinct arguments, asked every tick


class _Speaker:
    """One producer's recent frames, as steps (bytes, newest last, at most WINDOW), and the counts
    they give, kept until the next feed: a tick asks them once per producer and again per challenge."""

    __slots__ = ("_counts", "frames")

    def __init__(self) -> None:
        self.frames = bytearray()
        self._counts: tuple[int, int, int] | None = None

    def feed(self, frame_steps: bytes, missing: int) -> None:
        """`missing` silent frames (DTX, loss), then frames of `frame_steps`."""
        frames = self.frames
        if missing > 0:
            frames += bytes(min(missing, WINDOW))
        frames += frame_steps
        if len(frames) > WINDOW:
            del frames[: len(frames) - WINDOW]
        self._counts = None

    def counts(self) -> tuple[int, int, int]:
        if self._counts is None:
            self._counts = self._count()
        return self._counts

    def _count(self) -> tuple[int, int, int]:
        frames = self.frames
        if not frames:
            return 0, 0, 0
        immediate = frames[-1]
        if max(frames) < STEP_THRESHOLD:  # nothing active in the window: most microphones, most ticks
            return immediate, 0, 0
        active = frames.translate(_ACTIVE)
        blocks = [active[max(0, end - MEDIUM_FRAMES) : end].count(1) for end in range(len(active), 0, -MEDIUM_FRAMES)]
        return immediate, blocks[0], sum(1 for a in blocks if a >= MEDIUM_THRESHOLD)

    def scores(self) -> tuple[float, float, float]:
        immediate, medium, long = self.counts()
        return (
            _score(immediate, STEPS, RATES[0]),
            _score(medium, MEDIUM_FRAMES, RATES[1]),
            _score(long, LONG_BLOCKS, RATES[2]),
        )

    def active(self) -> bool:
        return self.counts()[1] >= MEDIUM_THRESHOLD


class DominantSpeaker:
    """The dominant speaker among a router's audio producers (any hashable ids)."""

    def __init__(self) -> None:
        self._speakers: dict[object, _Speaker] = {}
        self.dominant: object | None = None
        self._quiet_since: float | None = None

    def feed(self, producer: object, levels: bytes, elapsed: float) -> None:
        """The levels a producer sent over the last `elapsed` seconds (oldest first)."""
        speaker = self._speakers.get(producer)
        if speaker is None:
            speaker = self._speakers[producer] = _Speaker()
        speaker.feed(levels.translate(_STEPS), round(elapsed / FRAME) - len(levels))

    def remove(self, producer: object) -> None:
        """The producer closed, or its gate did: it is no candidate until fed again."""
        self._speakers.pop(producer, None)

    def candidates(self) -> int:
        """How many producers were fed and not forgotten since."""
        return len(self._speakers)

    def keep_only(self, producers: AbstractSet[object]) -> None:
        """Forgets every producer not in `producers`."""
        for producer in [p for p in self._speakers if p not in producers]:
            del self._speakers[producer]

    def decide(self, now: float) -> object | None:
        """The dominant speaker after the levels fed so far (None: nobody)."""
        if self.dominant not in self._speakers:
            self.dominant = None
        active = {p: s for p, s in self._speakers.items() if s.active()}
        if self.dominant is None:
            if active:
                self.dominant = max(active, key=lambda p: active[p].scores()[::-1])
                self._quiet_since = None
            return self.dominant
        current = self._speakers[self.dominant].scores()
        best, best_margin = None, 0.0
        for producer, speaker in active.items():
            if producer == self.dominant:
                continue
            challenge = speaker.scores()
            if all(c - d > margin for c, d, margin in zip(challenge, current, MARGINS)):
                if best is None or challenge[1] - current[1] > best_margin:
                    best, best_margin = producer, challenge[1] - current[1]
        if best is not None:
            self.dominant = best
        if active:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = now
        elif now - self._quiet_since >= SILENCE_HOLD:
            self.dominant = None
            self._quiet_since = None
        return self.dominant
