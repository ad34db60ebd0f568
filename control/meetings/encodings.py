"""Publishers are told which simulcast layers somebody consumes (docs/signaling.md, `layers`), so a
browser stops encoding the others: after every change of a meeting's media records (consumers
created, switched, paused, hidden, closed) and when a hold runs out, control.domain.encodings decides
per simulcast track, and the publisher gets a frame only when its set of active layers changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from control.domain.encodings import (
    Consuming,
    LayerDemand,
    next_check,
    to_tell,
    told,
    update,
    wanted_layers,
)
from control.meetings import frames
from control.meetings.live import LiveMeeting

Track = tuple[str, str]
"""(publisher, producer id of the track's lowest layer)."""


class PublisherLayers:
    """The layer demand of every simulcast track of the meetings this process runs."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.demands: dict[str, dict[Track, LayerDemand]] = {}
        """meeting id → its simulcast tracks' demand."""
        self.timers: dict[str, asyncio.TimerHandle] = {}
        """meeting id → the next decision when a hold runs out."""

    def changed(self, live: LiveMeeting) -> None:
        """Decide again after a change of `live`'s media records (or when a hold ran out)."""
        now = self.clock()
        before = self.demands.get(live.id, {})
        demands: dict[Track, LayerDemand] = {}
        peers = live.media.peers
        feed = live.media.records.recorder
        for pid, peer in peers.items():
            for publication in peer.publications.values():
                layers = len(publication.layer_ids)
                if layers < 2:
                    continue
                track = (pid, publication.producer_id)
                # a consumer forwarding a layer in place of a silent one wants both: the one it
                # forwards stays on, the silent one is still asked for (control.domain.layers)
                consumers = [
                    Consuming(layer, not s.paused)
                    for other in peers.values()
                    for s in other.subscriptions
                    if s.active and s.producer_id == publication.producer_id
                    for layer in {s.layer, s.wanted_layer}
                ]
                if feed is not None and any(c.producer_id == publication.producer_id for c in feed.consumers):
                    consumers.append(Consuming(layers - 1, True))  # the recorder's: the top layer
                demand = before.get(track) or LayerDemand.published(layers, now)
                demand = update(demand, wanted_layers(consumers), now)
                active = to_tell(demand, now)
                if active is not None:
                    live.send(pid, frames.Layers(source=str(publication.source), active=sorted(active)).wire())
                    demand = told(demand, active)
                demands[track] = demand
        self.demands[live.id] = demands
        self._schedule(live, now)

    def greet(self, live: LiveMeeting, pid: str) -> None:
        """A publisher resumed with its media kept: told again what its tracks encode, as frames sent
        while it had no socket were lost (a track still on every layer is not told)."""
        demands = self.demands.get(live.id, {})
        peer = live.media.peers.get(pid)
        for publication in peer.publications.values() if peer is not None else ():
            demand = demands.get((pid, publication.producer_id))
            if demand is not None and demand.told != frozenset(range(demand.layers)):
                live.send(pid, frames.Layers(source=str(publication.source), active=sorted(demand.told)).wire())

    def _schedule(self, live: LiveMeeting, now: float) -> None:
        timer = self.timers.pop(live.id, None)
        if timer is not None:
            timer.cancel()
        checks = [c for d in self.demands[live.id].values() if (c := next_check(d, now)) is not None]
        if checks:
            loop = asyncio.get_running_loop()
            self.timers[live.id] = loop.call_later(max(0.0, min(checks) - now), self.changed, live)

    def forget(self, meeting_id: str) -> None:
        self.demands.pop(meeting_id, None)
        timer = self.timers.pop(meeting_id, None)
        if timer is not None:
            timer.cancel()
