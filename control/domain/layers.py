"""Which simulcast layer a subscriber receives of a video track: pure policy over the size the
subscriber shows the track at and the track's source.

A simulcast publisher (the web client) sends up to three layers, lowest first, each half the
resolution of the next (scaleResolutionDownBy 4, 2, 1 of a camera's 720 lines: about 180, 360 and
720). A tile gets the lowest layer at least as tall as the tile's height in device pixels (a
little smaller is fine: the browser scales up by less than LAYER_SLACK), the top layer when none
is. A tile the subscriber does not show (hidden, or no height) gets no layer: its consumer is paused.

Priority: a screen share is text to read, so a shown one always gets its top layer; cameras follow
the size of their tile. (Once the engine estimates each subscriber's bandwidth, priority will decide
who is lowered first under the budget: screen shares last.)
"""

from __future__ import annotations

from control.domain.roles import Source

TOP_LAYER_HEIGHT = 720
"""Nominal height of a camera's top layer, in pixels; each layer below has half the one above."""
LAYER_SLACK = 1.25
"""A layer serves a tile up to this much taller than itself."""
MAX_LAYERS = 3


def layer_heights(layers: int) -> tuple[int, ...]:
    """Nominal heights of `layers` layers, lowest first."""
    if not 1 <= layers <= MAX_LAYERS:
        raise ValueError(f"a track has 1 to {MAX_LAYERS} layers, not {layers}")
    return tuple(TOP_LAYER_HEIGHT >> (layers - 1 - k) for k in range(layers))


def choose_layer(layers: int, source: Source, width: int, height: int) -> int | None:
    """The layer (0: lowest) for a tile of `width` x `height` device pixels; None: not shown."""
    heights = layer_heights(layers)
    if width <= 0 or height <= 0:
        return None
    if source == Source.SCREEN:
        return layers - 1
    for layer, layer_height in enumerate(heights):
        if layer_height * LAYER_SLACK >= height:
            return layer
    return layers - 1
