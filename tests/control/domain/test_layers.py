"""Simulcast layer choice (control.domain.layers): every source and layer count over tile sizes, and
the layer forwarded instead of a silent one over every pattern of silence."""

import itertools

import pytest

from control.domain.layers import (
    LAYER_SLACK,
    MAX_LAYERS,
    Priority,
    choose_layer,
    layer_heights,
    priority,
    sent_layer,
)
from control.domain.roles import Source


def test_layer_heights_halve_below_the_top() -> None:
    assert layer_heights(3) == (180, 360, 720)
    assert layer_heights(2) == (240, 480)  # two layers: the web client's picture under 540 lines
    assert layer_heights(1) == (720,)
    for bad in (0, 4):
        with pytest.raises(ValueError, match="1 to 3 layers"):
            layer_heights(bad)


@pytest.mark.parametrize(
    ("height", "layer"),
    [(1, 0), (180, 0), (225, 0), (226, 1), (450, 1), (451, 2), (720, 2), (2160, 2)],
)
def test_a_camera_gets_the_lowest_layer_tall_enough(height: int, layer: int) -> None:
    assert choose_layer(3, Source.CAMERA, 16 * height // 9 or 1, height) == layer


@pytest.mark.parametrize(("height", "layer"), [(128, 0), (240, 0), (300, 0), (301, 1), (384, 1), (720, 1)])
def test_a_two_layer_camera_is_a_picture_under_540_lines(height: int, layer: int) -> None:
    # the web client sends two layers (h, f) of a 640x480 camera: 240 and 480 lines, so a 628x384 grid
    # tile needs the top one (found trying issue 14: it got 320x240, scaled up 1.6 times)
    assert choose_layer(2, Source.CAMERA, 16 * height // 9, height) == layer


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize("layers", range(1, MAX_LAYERS + 1))
def test_every_size_gets_a_layer_that_exists_and_grows_with_the_tile(source: Source, layers: int) -> None:
    chosen = [choose_layer(layers, source, 640, h) for h in range(1, 1500, 7)]
    assert all(c is not None and 0 <= c < layers for c in chosen)
    assert chosen == sorted(chosen)  # never a lower layer for a taller tile
    heights = layer_heights(layers)
    for h in range(1, 1500, 7):
        layer = choose_layer(layers, source, 640, h)
        assert layer is not None
        if source != Source.SCREEN and layer < layers - 1:
            assert heights[layer] * LAYER_SLACK >= h  # tall enough
            assert layer == 0 or heights[layer - 1] * LAYER_SLACK < h  # and the lowest such


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize(("width", "height"), [(0, 0), (0, 300), (300, 0), (-1, 200)])
def test_a_tile_not_shown_gets_no_layer(source: Source, width: int, height: int) -> None:
    assert choose_layer(3, source, width, height) is None


def test_a_shown_screen_share_gets_its_top_layer() -> None:
    assert [choose_layer(n, Source.SCREEN, 160, 90) for n in (1, 2, 3)] == [0, 1, 2]


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize("speaking", [False, True])
def test_priority_is_screen_then_the_speakers_camera_then_size(source: Source, speaking: bool) -> None:
    expected = (
        Priority.SCREEN
        if source == Source.SCREEN
        else Priority.SPEAKER
        if speaking and source == Source.CAMERA
        else Priority.SIZE
    )
    assert priority(source, speaking) == expected
    assert Priority.SCREEN < Priority.SPEAKER < Priority.SIZE


@pytest.mark.parametrize(
    ("height", "plain", "speaking"),
    [
        (90, 0, 0),
        (180, 0, 0),
        (181, 0, 1),
        (225, 0, 1),
        (226, 1, 1),
        (360, 1, 1),
        (361, 1, 2),
        (450, 1, 2),
        (451, 2, 2),
    ],
)
def test_the_speakers_camera_is_never_scaled_up(height: int, plain: int, speaking: int) -> None:
    assert choose_layer(3, Source.CAMERA, 16 * height // 9, height) == plain
    assert choose_layer(3, Source.CAMERA, 16 * height // 9, height, speaking=True) == speaking


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize("layers", range(1, MAX_LAYERS + 1))
def test_speaking_raises_only_a_camera_and_by_at_most_one_layer(source: Source, layers: int) -> None:
    heights = layer_heights(layers)
    for h in [*range(-1, 1500, 7), 0]:
        for w in (0, 640):
            plain = choose_layer(layers, source, w, h)
            spoken = choose_layer(layers, source, w, h, speaking=True)
            if plain is None or spoken is None:
                assert plain is None and spoken is None  # hidden stays hidden
            elif source == Source.CAMERA:
                assert plain <= spoken <= plain + 1
                assert spoken == layers - 1 or heights[spoken] >= h  # tall enough: not scaled up
                assert spoken == 0 or heights[spoken - 1] < h  # and the lowest such
            else:
                assert spoken == plain  # a screen share is already on top; other sources follow size


def test_a_silent_layer_is_never_forwarded_while_another_is_sent() -> None:
    """Every layer count, pattern of silence, asked layer and current layer."""
    for count in range(1, MAX_LAYERS + 1):
        for silent in itertools.product((False, True), repeat=count):
            sent = [k for k, quiet in enumerate(silent) if not quiet]
            for layer, current in itertools.product(range(count), repeat=2):
                chosen = sent_layer(layer, silent, current)
                if not sent:
                    assert chosen == current  # nothing is sent: no switch for nothing
                elif not silent[layer]:
                    assert chosen == layer  # sent: forwarded as asked
                elif any(k < layer for k in sent):
                    assert chosen == max(k for k in sent if k < layer)  # the nearest smaller picture
                else:
                    assert chosen == min(sent)  # only larger ones: the nearest of them


def test_a_stopped_top_layer_falls_back_to_the_next_sent_one() -> None:
    assert sent_layer(2, (False, False, True), 2) == 1
    assert sent_layer(2, (False, True, True), 2) == 0
    assert sent_layer(0, (True, False, False), 0) == 1
    assert sent_layer(1, (True, True, True), 1) == 1


def test_sent_layer_refuses_a_layer_the_track_lacks() -> None:
    with pytest.raises(ValueError):
        sent_layer(3, (False, False, False), 0)
