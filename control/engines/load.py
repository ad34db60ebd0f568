"""A worker's measured load: the packets per second it moved between its last two stats reports
(`contract.stats` traffic: datagrams received plus packets the fast path sent), and the transports
placed on it since the last report, which have not shown up in a report yet.

Placement (`control.engines.placement`) compares workers by `estimate()`: what the worker is doing,
plus an allowance for what was just put on it, so that meetings opened between two reports (every
few seconds) do not all land on the same worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PACKETS_PER_NEW_TRANSPORT = 200.0
"""Packets/s expected of a transport placed since the last report: a participant with a microphone
(50 pps) and a camera (100-300 pps) in and out, before anything was measured."""


@dataclass
class PacketRate:
    """Packets per second between a worker's last two stats reports."""

    per_second: float = 0.0
    transports: int = 0
    """Transports in the worker's desired table at the last report."""
    _packets: int | None = None
    _at: float = 0.0

    def update(self, traffic: Mapping[str, int], now: float, transports: int) -> None:
        """One stats report's traffic counters, received at `now` (monotonic seconds)."""
        packets = traffic.get("datagrams_in", 0) + traffic.get("packets_out", 0)
        previous, elapsed = self._packets, now - self._at
        if previous is not None and packets >= previous and elapsed > 0:
            self.per_second = (packets - previous) / elapsed
        # else: the first report, or a restarted worker's counters (they start again from zero)
        self._packets, self._at, self.transports = packets, now, transports

    def estimate(self, transports: int) -> float:
        """The measured rate plus an allowance for each transport placed since the last report."""
        return self.per_second + PACKETS_PER_NEW_TRANSPORT * max(0, transports - self.transports)
