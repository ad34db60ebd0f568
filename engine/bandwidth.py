"""What the engine tells the control plane about bandwidth, every BANDWIDTH_TICK, sans-I/O: each
video producer's measured bitrate (a simulcast layer is a producer of its own) and each transport's
estimate of what it may send to its peer (transport-wide congestion control), each only when it
moved by more than CHANGE since it was last told. The control plane's budget (control.domain.budget)
turns them into the layer each subscriber gets; telling it every wobble would only churn layers."""

from __future__ import annotations

from collections.abc import Iterable

BANDWIDTH_TICK = 1.0
"""Seconds between two reports."""
CHANGE = 0.1
"""A relative change worth telling."""
SMOOTHING = 0.5
"""Weight of the newest second in a producer's bitrate (keyframes make single seconds jumpy)."""


def moved(before: int | None, now: int) -> bool:
    """Whether `now` differs from what was told (`before`) enough to tell again."""
    if before is None:
        return True
    return abs(now - before) > CHANGE * max(before, 1)


class BandwidthReports:
    """The measured bitrates and what was last told, per producer and per transport."""

    def __init__(self) -> None:
        self._bytes: dict[int, int] = {}
        self._rates: dict[int, float] = {}
        self._told_rates: dict[int, int] = {}
        self._told_estimates: dict[int, int] = {}

    def producers(self, seen: Iterable[tuple[int, int]], elapsed: float) -> list[tuple[int, int]]:
        """(producer, bytes received so far) of every video producer now → (producer, bit/s) to tell.
        Producers not seen are forgotten."""
        out: list[tuple[int, int]] = []
        alive: set[int] = set()
        for producer, total in seen:
            alive.add(producer)
            last = self._bytes.get(producer)
            self._bytes[producer] = total
            if last is None or elapsed <= 0 or total < last:
                continue  # a first sight (or a counter that went back): a rate from the next tick
            fresh = (total - last) * 8 / elapsed
            before = self._rates.get(producer)
            rate = fresh if before is None else SMOOTHING * fresh + (1 - SMOOTHING) * before
            self._rates[producer] = rate
            if moved(self._told_rates.get(producer), round(rate)):
                self._told_rates[producer] = round(rate)
                out.append((producer, round(rate)))
        if len(self._bytes) == len(alive):
            return out  # every producer known was seen (the common case: no set to build)
        for gone in self._bytes.keys() - alive:
            self._bytes.pop(gone, None)
            self._rates.pop(gone, None)
            self._told_rates.pop(gone, None)
        return out

    def transports(self, seen: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """(transport, estimate in bit/s; 0: none yet) → those to tell. Transports not seen are forgotten."""
        out: list[tuple[int, int]] = []
        alive: set[int] = set()
        for transport, estimate in seen:
            alive.add(transport)
            if estimate > 0 and moved(self._told_estimates.get(transport), estimate):
                self._told_estimates[transport] = estimate
                out.append((transport, estimate))
        if self._told_estimates:  # none told (plain transports, no feedback yet): nothing to forget
            for gone in self._told_estimates.keys() - alive:
                del self._told_estimates[gone]
        return out
