"""Which simulcast layer a subscriber receives of a video track: pure policy over the size the
subscriber shows the track at and the track's source.

A simulcast publisher (the web client) sends up to three layers, lowest first, each half the
resolution of the next (scaleResolutionDownBy 4, 2, 1 of a camera's 720 lines: about 180, 360 and
720). It sends three only from 540 lines: two layers are a smaller picture's (a 640x480 camera's 240
and 480), so their heights are nominally those. A tile gets the lowest layer at least as
tall as the tile's height in device pixels (a little smaller is fine: the browser scales up by less
than LAYER_SLACK), the top layer when none is. A tile the subscriber does not show (hidden, or no
height) gets no layer: its consumer is paused.

Priority (`priority`): a screen share is text to read, so a shown one always gets its top layer;
then the active speaker's camera, the face everyone watches: the lowest layer at least as tall as its
tile, without the slack (never scaled up; a thumbnail stays on the lowest layer); other cameras
follow the size of their tile, with the slack. (Once the engine estimates each subscriber's
bandwidth, the same order will decide who is lowered first under the budget: screen shares last,
then the speaker.)

A publisher's browser may stop sending a layer by itself (Chromium does when its bandwidth estimate
or its CPU cannot carry them all) while the server still asks for it: `sent_layer` forwards the
nearest layer still sent instead, so that a subscriber never waits on a silent one.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from control.domain.roles import Source

TOP_LAYER_HEIGHT = 720
"""Nominal height of a camera's top layer, in pixels; each layer below has half the one above."""
TWO_LAYER_TOP_HEIGHT = 480
"""Nominal top height of a two-layer camera: the web client sends two layers of a picture under 540
lines (lib/media.js), typically 640x480; taken as 720, a 300-450 px tile would get its 240 lines."""
LAYER_SLACK = 1.25
"""A layer serves a tile up to this much taller than itself."""
MAX_LAYERS = 3


def layer_heights(layers: int) -> tuple[int, ...]:
    """Nominal heights of `layers` layers, lowest first."""
    if not 1 <= layers <= MAX_LAYERS:
        raise ValueError(f"a track has 1 to {MAX_LAYERS} layers, not {layers}")
    top = TWO_LAYER_TOP_HEIGHT if layers == 2 else TOP_LAYER_HEIGHT
    return tuple(top >> (layers - 1 - k) for k in range(layers))


class Priority(IntEnum):
    """Who keeps quality first, highest first."""

    SCREEN = 0
    """A shared screen: its top layer whenever shown."""
    SPEAKER = 1
    """The active speaker's camera: a layer at least as tall as its tile (no slack)."""
    SIZE = 2
    """Any other video: the size of its tile."""


def priority(source: Source, speaking: bool) -> Priority:
    """The priority of a video of `source`; `speaking`: its publisher is the active speaker."""
    if source == Source.SCREEN:
        return Priority.SCREEN
    return Priority.SPEAKER if speaking and source == Source.CAMERA else Priority.SIZE


def choose_layer(layers: int, source: Source, width: int, height: int, speaking: bool = False) -> int | None:
    """The layer (0: lowest) for a tile of `width` x `height` device pixels; None: not shown.
    `speaking`: the track's publisher is the meeting's active speaker."""
    heights = layer_heights(layers)
    if width <= 0 or height <= 0:
        return None
    rank = priority(source, speaking)
    if rank == Priority.SCREEN:
        return layers - 1
    slack = 1.0 if rank == Priority.SPEAKER else LAYER_SLACK
    return next((k for k, h in enumerate(heights) if h * slack >= height), layers - 1)


def sent_layer(layer: int, silent: Sequence[bool], current: int) -> int:
    """The layer to forward instead of `layer` while the publisher sends only some (`silent[k]`:
    layer k carries no media now): `layer` when it is sent; else the highest sent below it (a smaller
    picture rather than none); else the lowest sent above it. When none is sent (a camera turned off,
    or layers stopping one after the other), `current` stays: nothing better to switch to."""
    if not 0 <= layer < len(silent):
        raise ValueError(f"layer {layer} of {len(silent)}")
    if not silent[layer]:
        return layer
    below = [k for k in range(layer) if not silent[k]]
    if below:
        return below[-1]
    above = [k for k in range(layer + 1, len(silent)) if not silent[k]]
    return above[0] if above else current
