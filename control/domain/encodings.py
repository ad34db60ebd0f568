"""Which simulcast layers a publisher should encode: pure policy over what the consumers of its track
forward, and when the publisher is told (docs/signaling.md, `layers`).

A layer is wanted while any consumer that is shown (not paused, not hidden) forwards it or is
switching to it (a consumer's `layer` is its target from the moment its switch is sent: the engine
forwards the old layer until the target's keyframe), or would forward it were it sent (a layer the
browser stopped, control.domain.layers.sent_layer: asked for, so that it comes back). A wanted
layer is turned on at once, so a switch up finds it encoding; a layer nobody wants stays on for
HOLD_S more before it is turned off: the consumers switching away from it still forward it until the
lower layer's keyframe, and a tile resized back and forth keeps its layers instead of flooding the
publisher with `layers` frames (turning off happens at most once per HOLD_S for a layer; turning on
at most once per layer in that time, as it then stays on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HOLD_S = 3.0
"""How long a layer nobody wants any more stays encoded."""


@dataclass(frozen=True)
class Consuming:
    """One consumer of a simulcast track, as the policy needs it."""

    layer: int
    """The layer it forwards, is switching to, or wants (0: lowest); a consumer may count twice."""
    shown: bool
    """False while it is paused (hidden by its subscriber, or not allowed): it forwards nothing."""


def wanted_layers(consumers: Iterable[Consuming]) -> frozenset[int]:
    """The layers some shown consumer forwards or switches to."""
    return frozenset(c.layer for c in consumers if c.shown)


@dataclass(frozen=True)
class LayerDemand:
    """What a publisher of one track was last told, and which layers its consumers want."""

    layers: int
    """How many layers the track has."""
    wanted: frozenset[int]
    """The layers wanted now."""
    wanted_at: Mapping[int, float]
    """layer → when it was last wanted (a new track: all of them, when it was published)."""
    told: frozenset[int]
    """The layers the publisher encodes as far as it was told (a new track: all of them)."""

    @classmethod
    def published(cls, layers: int, now: float) -> LayerDemand:
        """A track just published: the browser encodes every layer; nobody wants one yet."""
        every = frozenset(range(layers))
        return cls(layers, frozenset(), {layer: now for layer in every}, every)


def update(demand: LayerDemand, wanted: frozenset[int], now: float) -> LayerDemand:
    """The demand once the consumers want `wanted` at `now` (layers out of range are ignored)."""
    wanted = frozenset(layer for layer in wanted if 0 <= layer < demand.layers)
    wanted_at = dict(demand.wanted_at)
    for layer in wanted | demand.wanted:  # wanted now, or wanted until now
        wanted_at[layer] = now
    return LayerDemand(demand.layers, wanted, wanted_at, demand.told)


def active_layers(demand: LayerDemand, now: float) -> frozenset[int]:
    """The layers to encode at `now`: those wanted, and those wanted less than HOLD_S ago."""
    recent = (layer for layer, at in demand.wanted_at.items() if now - at < HOLD_S)
    return demand.wanted | frozenset(recent)


def to_tell(demand: LayerDemand, now: float) -> frozenset[int] | None:
    """The active layers to tell the publisher at `now`, or None when they are what it was told."""
    active = active_layers(demand, now)
    return None if active == demand.told else active


def told(demand: LayerDemand, active: frozenset[int]) -> LayerDemand:
    """The demand once the publisher was told `active`."""
    return LayerDemand(demand.layers, demand.wanted, demand.wanted_at, active)


def next_check(demand: LayerDemand, now: float) -> float | None:
    """When the next layer that is active but no longer wanted expires (to decide again then)."""
    pending = [
        at + HOLD_S for layer, at in demand.wanted_at.items() if layer not in demand.wanted and now - at < HOLD_S
    ]
    return min(pending) if pending else None
