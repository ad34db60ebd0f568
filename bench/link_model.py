"""A synthetic link for the bandwidth estimator (engine/estimator.pxi), in-process and deterministic.

A sender paced at the estimate sends 1200-byte packets every 5 ms tick through a bottleneck of a
given capacity (a FIFO drained at that rate, tail-dropping what would wait longer than its queue
limit, then a fixed propagation delay); every 50 ms the receiver reports what arrived as transport-cc
feedback (engine/rtp/twcc.py writes it), which the engine's own parser and estimator read
(engine._testing.TwccEstimator). Times are microseconds of a simulated clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from engine import _testing
from engine.rtp.twcc import serialize_twcc

PACKET_SIZE = 1200
PADDING_PACKET_SIZE = 275  # a probe's padding-only packet: header, transport-cc, 255 bytes of padding
TICK_US = 5_000
FEEDBACK_US = 50_000


@dataclass
class Bottleneck:
    """A FIFO drained at `capacity_bps`, then `propagation_us` of delay; random loss optional."""

    capacity_bps: float
    propagation_us: int = 20_000
    queue_limit_us: int = 400_000
    loss: float = 0.0
    seed: int = 1
    busy_until_us: float = 0.0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def carry(self, send_us: int, size: int) -> int | None:
        """When a packet sent at `send_us` arrives, or None when the link drops it."""
        start = max(float(send_us), self.busy_until_us)
        if start - send_us > self.queue_limit_us:
            return None
        self.busy_until_us = start + size * 8 * 1e6 / self.capacity_bps
        if self.loss and self.rng.random() < self.loss:
            return None
        return int(self.busy_until_us) + self.propagation_us


@dataclass
class LinkRun:
    """The estimator and a link, run tick by tick; `samples` holds (time us, estimate bps).

    The sender sends at the estimate, or at `app_limit_bps` when that is lower (a subscriber held
    to a low layer: application-limited); with `probing` the estimator starts probes as the engine
    does and the sender adds the padding they owe."""

    link: Bottleneck
    probing: bool = False
    app_limit_bps: float = float("inf")
    estimator: _testing.TwccEstimator = field(init=False)
    now_us: int = 1_000_000
    samples: list[tuple[int, int]] = field(default_factory=list)
    _budget_bits: float = 0.0
    _in_flight: list[tuple[int, int | None]] = field(default_factory=list)  # (seq, arrival) unreported
    _feedback_count: int = 0

    def __post_init__(self) -> None:
        self.estimator = _testing.TwccEstimator(probing=self.probing)

    def run(self, duration_us: int) -> None:
        end = self.now_us + duration_us
        while self.now_us < end:
            self._send()
            self.now_us += TICK_US
            if self.now_us % FEEDBACK_US == 0:
                self._feedback()
            self.samples.append((self.now_us, self.estimator.estimate_bps))

    def _send(self) -> None:
        self._budget_bits += min(self.estimator.estimate_bps, self.app_limit_bps) * TICK_US / 1e6
        while self._budget_bits >= PACKET_SIZE * 8:
            self._budget_bits -= PACKET_SIZE * 8
            seq = self.estimator.sent(PACKET_SIZE, self.now_us)
            self._in_flight.append((seq, self.link.carry(self.now_us, PACKET_SIZE)))
        self._budget_bits = min(self._budget_bits, PACKET_SIZE * 8 * 4)  # no burst after a pause
        owed = self.estimator.probe_owed(self.now_us)
        while owed > 0:
            seq = self.estimator.sent(PADDING_PACKET_SIZE, self.now_us, True)
            self._in_flight.append((seq, self.link.carry(self.now_us, PADDING_PACKET_SIZE)))
            owed -= PADDING_PACKET_SIZE

    def _feedback(self) -> None:
        """Reports every packet up to the last that arrived by now: received or lost."""
        last = max((i for i, (_, at) in enumerate(self._in_flight) if at is not None and at <= self.now_us), default=-1)
        if last < 0:
            return
        reported, self._in_flight = self._in_flight[: last + 1], self._in_flight[last + 1 :]
        fci = serialize_twcc(reported[0][0], [at for _, at in reported], self._feedback_count)
        self._feedback_count += 1
        self.estimator.feedback(fci, self.now_us + self.link.propagation_us)

    def mean_estimate(self, since_us: int) -> float:
        values = [bps for at, bps in self.samples if at >= since_us]
        return sum(values) / len(values)


def converge_time_us(samples: list[tuple[int, int]], since_us: int, low: float, high: float) -> int | None:
    """How long after `since_us` the estimate first lies within [low, high] (None: never)."""
    for at, bps in samples:
        if at >= since_us and low <= bps <= high:
            return at - since_us
    return None


def step_convergence(steps: int, high_bps: float = 2e6, low_bps: float = 3e5, hold_us: int = 40_000_000):
    """Convergence times (us) of `steps` rate steps each way: high → low (the estimate at or
    below 1.25 × low) and low → high (at or above 0.75 × high), after a first settling period."""
    link = Bottleneck(high_bps)
    run = LinkRun(link)
    run.run(hold_us)
    down: list[int | None] = []
    up: list[int | None] = []
    for _ in range(steps):
        link.capacity_bps = low_bps
        start = run.now_us
        run.run(hold_us)
        down.append(converge_time_us(run.samples, start, 0.0, 1.25 * low_bps))
        link.capacity_bps = high_bps
        start = run.now_us
        run.run(hold_us)
        up.append(converge_time_us(run.samples, start, 0.75 * high_bps, float("inf")))
    return down, up
