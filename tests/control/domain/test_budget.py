"""The bandwidth budget of one subscriber (control.domain.budget): what fits, who is served first,
that no video is paused for bandwidth, and that a wobbling estimate does not switch a layer back
and forth."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control.domain.budget import AUDIO_BPS, HEADROOM, NOMINAL_BPS, RAISE_MARGIN, Video, cost, fit, order
from control.domain.layers import Priority

MEASURED = (150_000, 500_000, 1_500_000)


def camera(name: str, asked: int = 2, priority: Priority = Priority.SIZE, **kw: object) -> Video:
    return Video(name, priority, asked, MEASURED, **kw)  # type: ignore[arg-type]


def spent(videos: list[Video], chosen: dict[str, int]) -> int:
    return sum(cost(v, chosen[v.consumer]) for v in videos)


def test_a_roomy_link_gets_what_every_tile_asks_for() -> None:
    videos = [camera("a"), camera("b", asked=1), camera("c", asked=0)]
    assert fit(10_000_000, videos) == {"a": 2, "b": 1, "c": 0}


def test_a_300_kbit_link_gets_the_lowest_layers_and_no_video_is_ever_paused() -> None:
    videos = [camera("a"), camera("b")]
    assert fit(300_000, videos) == {"a": 0, "b": 0}  # 270 kbit/s usable: less than both lowest layers
    assert fit(0, videos) == {"a": 0, "b": 0}
    assert fit(800_000, videos) == {"a": 1, "b": 0}  # 720 - 300 = 420: one raise of 350 (+52 margin)


def test_the_screen_share_then_the_speaker_are_served_first() -> None:
    screen = Video("s", Priority.SCREEN, 2, MEASURED, area=100)
    speaker = camera("sp", priority=Priority.SPEAKER, area=100)
    big = camera("big", area=10_000)
    chosen = fit(2_600_000, [big, speaker, screen])
    assert chosen == {"s": 2, "sp": 1, "big": 0}
    assert [v.consumer for v in order([big, speaker, screen])] == ["s", "sp", "big"]
    # equal priorities share the rest round robin
    assert fit(2_000_000, [camera("x"), camera("y")]) == {"x": 1, "y": 1}


def test_audio_is_carried_first() -> None:
    step = cost(camera("a"), 1) - cost(camera("a"), 0)
    need = cost(camera("a"), 0) + step + int(step * RAISE_MARGIN) + 3 * AUDIO_BPS
    exact = int(need / HEADROOM) + 1
    assert fit(exact, [camera("a")], audio_tracks=3) == {"a": 1}
    assert fit(exact - 20_000, [camera("a")], audio_tracks=3) == {"a": 0}


def test_unmeasured_layers_cost_their_nominal_bitrate() -> None:
    fresh = Video("a", Priority.SIZE, 1, (0, 0))  # two layers: 360 and 720 lines
    assert cost(fresh, 0) == NOMINAL_BPS[1] and cost(fresh, 1) == NOMINAL_BPS[2]
    single = Video("b", Priority.SIZE, 0, (0,))
    assert cost(single, 0) == NOMINAL_BPS[2]
    with pytest.raises(ValueError, match="1 to 3 layers"):
        Video("c", Priority.SIZE, 0, ())


def test_a_raise_needs_a_margin_but_a_kept_layer_does_not() -> None:
    step = MEASURED[1] - MEASURED[0]
    just = int((MEASURED[1] + step * RAISE_MARGIN / 2) / HEADROOM)  # the raise fits, its margin does not
    assert fit(just, [camera("a", asked=1)]) == {"a": 0}
    assert fit(just, [camera("a", asked=1, current=1)]) == {"a": 1}


videos = st.lists(
    st.builds(
        Video,
        consumer=st.text("abcdef", min_size=1, max_size=3),
        priority=st.sampled_from(Priority),
        asked=st.integers(0, 2),
        bitrates=st.lists(st.integers(0, 3_000_000), min_size=1, max_size=3).map(tuple),
        area=st.integers(0, 10_000),
        current=st.none() | st.integers(0, 2),
    ),
    max_size=8,
    unique_by=lambda v: v.consumer,
)


@given(estimate=st.integers(0, 20_000_000), videos=videos, audio=st.integers(0, 6))
def test_every_video_gets_its_lowest_layer_raises_fit_and_none_is_left_affordable(
    estimate: int, videos: list[Video], audio: int
) -> None:
    chosen = fit(estimate, videos, audio)
    budget = int(estimate * HEADROOM) - audio * AUDIO_BPS
    assert set(chosen) == {v.consumer for v in videos}
    lowest = sum(cost(v, 0) for v in videos)
    assert spent(videos, dict(chosen)) <= max(budget, lowest)  # raises only from what is left
    ranked = order(videos)
    for v in ranked:
        layer = chosen[v.consumer]
        assert 0 <= layer <= min(v.asked, len(v.bitrates) - 1)
    left = budget - spent(videos, dict(chosen))
    for v in ranked:  # nothing that asked for more could have been raised one more step (the budget
        # only shrinks as the classes are served, so what did not fit then does not fit now)
        layer = chosen[v.consumer]
        if layer >= min(v.asked, len(v.bitrates) - 1):
            continue
        step = cost(v, layer + 1) - cost(v, layer)
        margin = 0 if v.current is not None and v.current > layer else int(step * RAISE_MARGIN)
        assert step + margin > left


def test_a_layer_never_costs_less_than_the_one_below() -> None:
    """Found by the property test: a measured top layer cheaper than an unmeasured middle one made a
    raise give budget back, and a video served earlier was left below what it could afford."""
    odd = Video("a", Priority.SIZE, 2, (1_500_000, 0, 100_000))
    assert [cost(odd, k) for k in range(3)] == [1_500_000, 1_500_000, 1_500_000]
