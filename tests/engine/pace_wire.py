"""Helpers of the pacing tests: a frozen engine clock moved by hand (engine._testing.set_clock), so
the rate a paced transport releases video at is measured in simulated time, never by the wall clock."""

from __future__ import annotations

from collections.abc import Callable

from engine_wire import Peer, is_rtcp

from engine import Engine, _testing


class Clock:
    """The engine's clock, frozen at 1 s; advance(ms) moves it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.now_us = 1_000_000
        _testing.set_clock(engine._core, self.now_us)

    def advance(self, ms: float) -> None:
        self.now_us += int(ms * 1000)
        _testing.set_clock(self.engine._core, self.now_us)

    def release(self) -> None:
        """The loop's pace timer, one tick at this moment."""
        self.engine._core.pace()

    def thaw(self) -> None:
        _testing.set_clock(self.engine._core, None)


def drain(peer: Peer, keep: Callable[[bytes], bool] = lambda d: not is_rtcp(d)) -> list[bytes]:
    """The datagrams waiting in the peer's socket now that `keep` keeps (RTP by default)."""
    out = []
    while True:
        try:
            data = peer.sock.recv(4096)
        except BlockingIOError:
            return out
        if keep(data):
            out.append(data)


def ticks(clock: Clock, peer: Peer, step_ms: float, limit: int = 10_000) -> list[tuple[int, list[bytes]]]:
    """Moves the clock `step_ms` a tick, releasing what is due, until the engine holds nothing:
    (simulated time in microseconds, the RTP datagrams the peer received at that tick) per tick."""
    out = [(clock.now_us, drain(peer))]
    for _ in range(limit):
        if not clock.engine._core.paced_pending:
            return out
        clock.advance(step_ms)
        clock.release()
        out.append((clock.now_us, drain(peer)))
    raise AssertionError("the pacer still holds packets")
