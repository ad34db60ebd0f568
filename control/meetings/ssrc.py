"""The SSRCs the control plane gives consumers: one allocator per subscriber transport.

A subscriber's consumers share its transport and its SRTP session, so their SSRCs (primary and
RTX) must differ there; consumers on other transports may reuse a value. Each subscriber
transport keeps the set it handed out, so an allocation looks at that set only (never at every
SSRC of the meeting). SSRCs are never given back while the transport lives: a consumer that
takes an ended one's m-section (control.meetings.media) gets SSRCs of its own.
"""

from __future__ import annotations

import random

MAX_SSRC = 0xFFFFFFFF


class SsrcAllocator:
    """SSRCs handed out on one subscriber transport.

    Media records are copy-on-write: a change copies the allocator of the transport it touches
    (`copy`) before allocating, so the records it started from keep theirs."""

    __slots__ = ("_random", "_used")

    def __init__(self, used: frozenset[int] | set[int] = frozenset(), rng: random.Random | None = None) -> None:
        self._used = set(used)
        self._random = rng or random.Random()

    def allocate(self) -> int:
        """A fresh SSRC, unique on this transport."""
        while True:
            ssrc = self._random.randint(1, MAX_SSRC)
            if ssrc not in self._used:
                self._used.add(ssrc)
                return ssrc

    def copy(self) -> SsrcAllocator:
        return SsrcAllocator(self._used, self._random)

    @property
    def used(self) -> frozenset[int]:
        return frozenset(self._used)

    def __len__(self) -> int:
        return len(self._used)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SsrcAllocator) and self._used == other._used

    def __repr__(self) -> str:
        return f"SsrcAllocator({len(self._used)} used)"
