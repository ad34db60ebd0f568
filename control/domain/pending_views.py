"""Views that wait: a subscriber's `view` (the size it shows one of its consumers at) that cannot
take effect yet is kept, the latest per consumer, and applied once it can, so that the client need
not send it again: pure policy over consumer ids and sizes.

A view waits when it names a consumer the subscriber does not have yet but may still get (one of its
own ids, numbered after every consumer it was given: the engine has not made it yet), or when the
engine did not take it (refused, no answer): it is tried again after the meeting's next change. A
view of anything else (another participant's consumer, one of its own that is gone) is refused.
At most MAX_PENDING views wait per subscriber; the oldest goes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

MAX_PENDING = 16
"""Views kept per subscriber: more than the tiles a page shows at once."""

Size = tuple[int, int]


@dataclass(frozen=True)
class PendingViews:
    """One subscriber's waiting views."""

    sizes: Mapping[str, Size] = field(default_factory=lambda: MappingProxyType({}))
    """consumer id → the size its latest view asks for, oldest view first."""


def consumer_number(subscriber: str, consumer_id: str) -> int | None:
    """The number of one of `subscriber`'s consumer ids (`<subscriber>.c<n>`), None for any other id."""
    head, _, number = consumer_id.rpartition(".c")
    if head != subscriber or not number.isdigit() or number != str(int(number)):
        return None
    return int(number)


def may_wait(subscriber: str, consumer_id: str, last_given: int) -> bool:
    """Whether a view of a consumer the subscriber does not have may wait for it: one of its own ids,
    numbered after `last_given`, the highest number it was given so far."""
    number = consumer_number(subscriber, consumer_id)
    return number is not None and number > last_given


def want(pending: PendingViews, consumer_id: str, size: Size) -> PendingViews:
    """`pending` with the latest view of `consumer_id` (the newest), the oldest dropped beyond
    MAX_PENDING."""
    sizes = {cid: s for cid, s in pending.sizes.items() if cid != consumer_id}
    sizes[consumer_id] = size
    while len(sizes) > MAX_PENDING:
        del sizes[next(iter(sizes))]
    return PendingViews(MappingProxyType(sizes))


def due(pending: PendingViews, viewable: Iterable[str]) -> tuple[list[tuple[str, Size]], PendingViews]:
    """The views whose consumer can take them now (in the order they were wanted), and those that
    still wait."""
    ready = set(viewable)
    now = [(cid, size) for cid, size in pending.sizes.items() if cid in ready]
    rest = {cid: size for cid, size in pending.sizes.items() if cid not in ready}
    return now, PendingViews(MappingProxyType(rest))


def settled(pending: PendingViews, consumer_id: str) -> PendingViews:
    """`pending` without `consumer_id`: a newer view of it took effect."""
    if consumer_id not in pending.sizes:
        return pending
    return PendingViews(MappingProxyType({c: s for c, s in pending.sizes.items() if c != consumer_id}))
