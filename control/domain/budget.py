"""Which layer each video a subscriber receives gets when the bandwidth estimated toward it cannot
carry everything its tiles ask for: pure policy over the estimate, the layers' bitrates and the
videos' priorities.

Each video asks for a layer (control.domain.layers: the size of its tile). Of the estimate, HEADROOM
is spent (an estimate is noisy and the subscriber's audio, RTCP and retransmissions need room), audio
first (AUDIO_BPS per audio track). Then, in priority order (screen shares, the active speaker's
camera, other videos, each group largest tile first), every video gets its lowest layer, whatever
the estimate: a video is never paused for bandwidth. An estimate is at its least reliable when it is
lowest (a loaded host delays feedback as a congested link would), a paused video is gone for the
subscriber, and a lowest layer costs little (the worker's pacer spreads its bursts, and never holds
audio). What is left raises the videos towards the layer each asked
for: the screen shares as far as the budget goes, then the speaker's camera, then the others, one
layer at a time round robin within each of those classes. A layer costs its measured bitrate, or its
nominal one (NOMINAL_BPS) while the engine has not measured it.

A video keeps the layer it has when the budget would raise it by less than RAISE_MARGIN of the
step's cost: an estimate that wobbles around a layer's bitrate must not switch it every second
(each switch up waits for a keyframe, which is itself a burst).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from control.domain.layers import Priority

HEADROOM = 0.9
"""The share of the estimate that media may use."""
AUDIO_BPS = 48_000
"""What one Opus track costs with its headers (about 32 kbit/s of payload at 50 packets/s)."""
NOMINAL_BPS = (180_000, 600_000, 1_800_000)
"""A camera's layers as Chromium encodes them at 180, 360 and 720 lines, before any is measured."""
RAISE_MARGIN = 0.15
"""A raise needs this much of the step's cost to spare beyond it."""


@dataclass(frozen=True)
class Video:
    """One video consumer of the subscriber, as the policy needs it."""

    consumer: str
    priority: Priority
    asked: int
    """The layer its tile's size asks for (0: lowest)."""
    bitrates: tuple[int, ...]
    """Each layer's measured bitrate in bit/s, lowest first; 0 where not measured yet."""
    area: int = 0
    """Its tile's size in device pixels: among equal priorities, the larger is served first."""
    current: int | None = None
    """The layer it forwards now (None: not yet, or hidden), for RAISE_MARGIN."""

    def __post_init__(self) -> None:
        if not 1 <= len(self.bitrates) <= len(NOMINAL_BPS):
            raise ValueError(f"a video has 1 to {len(NOMINAL_BPS)} layers, not {len(self.bitrates)}")


def cost(video: Video, layer: int) -> int:
    """What forwarding `layer` of `video` costs, in bit/s: never less than a layer below it (a layer
    measured low while the one below is unmeasured, or measured high, must not make a raise free)."""
    return max(_raw_cost(video, k) for k in range(layer + 1))


def _raw_cost(video: Video, layer: int) -> int:
    measured = video.bitrates[layer]
    return measured if measured > 0 else NOMINAL_BPS[len(NOMINAL_BPS) - len(video.bitrates) + layer]


def order(videos: Sequence[Video]) -> list[Video]:
    """Who is served first: priority, then the larger tile, then the consumer id (deterministic)."""
    return sorted(videos, key=lambda v: (v.priority, -v.area, v.consumer))


def fit(estimate: int, videos: Sequence[Video], audio_tracks: int = 0) -> Mapping[str, int]:
    """consumer → the layer it may forward within `estimate` bit/s (at least its lowest)."""
    ranked = order(videos)
    chosen = {v.consumer: 0 for v in ranked}
    budget = int(estimate * HEADROOM) - audio_tracks * AUDIO_BPS - sum(cost(v, 0) for v in ranked)
    for rank in Priority:  # a class is raised as far as it goes before the next is
        same = [v for v in ranked if v.priority == rank]
        raised = True
        while raised:  # within a class, one layer at a time, round robin
            raised = False
            for video in same:
                layer = chosen[video.consumer]
                if layer >= min(video.asked, len(video.bitrates) - 1):
                    continue
                step = cost(video, layer + 1) - cost(video, layer)
                margin = 0 if video.current is not None and video.current > layer else int(step * RAISE_MARGIN)
                if step + margin > budget:
                    continue
                budget -= step
                chosen[video.consumer] = layer + 1
                raised = True
    return chosen
