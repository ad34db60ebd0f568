"""Rate limits per address (sign-in, refresh, invitations, signaling joins) and per signaling connection
(frames), over the `limits` library: a moving window in this process's memory.

Each limit is named as in `control.settings.Limits` and keyed by what it counts: the socket's peer address
(forwarded headers are not trusted), or a connection's own key. A refused hit does not count, so a client
that waits `retry_after` seconds is let through again. The storage forgets a key once its window is over.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from control.errors import RateLimited
from control.settings import Limits

_WHAT = {
    "login": "sign-ins",
    "refresh": "token refreshes",
    "invitation": "invitation redemptions",
    "join": "joins",
    "frames": "frames on this connection",
}


def parse_rate(rate: str) -> RateLimitItem:
    """'20/minute', '5 per 10 seconds', …; ValueError for anything else."""
    return parse(rate)


class RateLimiter:
    """The rate limits of one control-plane process. Every call is synchronous and takes microseconds (no
    I/O: the storage is a dict of short lists), so it is called from the event loop directly."""

    def __init__(self, limits: Limits) -> None:
        self.items = {name: parse_rate(rate) for name, rate in limits.rates().items() if rate is not None}
        self.storage = MemoryStorage()
        self.window = MovingWindowRateLimiter(self.storage)

    def wait(self, name: str, key: str) -> int:
        """Counts one hit of limit `name` for `key`: 0 if allowed, else the whole seconds (≥ 1) to wait."""
        item = self.items.get(name)
        if item is None or self.window.hit(item, name, key):
            return 0
        reset, _ = self.window.get_window_stats(item, name, key)
        return max(1, math.ceil(reset - time.time()))

    def check(self, name: str, key: str) -> None:
        """Counts one hit; RateLimited (429 `rate_limited`, with its Retry-After) when over the limit."""
        seconds = self.wait(name, key)
        if seconds:
            raise RateLimited(self.refusal(name, seconds), retry_after=seconds)

    def refusal(self, name: str, seconds: int) -> str:
        item = self.items[name]
        per = f"{item.multiples} {item.GRANULARITY.name}s" if item.multiples != 1 else item.GRANULARITY.name
        return f"too many {_WHAT.get(name, name)} (at most {item.amount} per {per}); retry in {seconds} s"

    def forget(self, name: str, key: str) -> None:
        """Drops `key`'s window of limit `name` (a closed connection's frames)."""
        item = self.items.get(name)
        if item is not None:
            self.window.clear(item, name, key)
