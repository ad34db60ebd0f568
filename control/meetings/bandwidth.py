"""The layers each subscriber's link allows: the engine's bandwidth estimate toward every subscriber
transport (transport-wide congestion control, engine/estimator.pxi) and the measured bitrate of
every video layer arrive as engine events; control.domain.budget turns them into a cap per consumer
(`Media.caps`), and the consumers whose cap changed choose their layer again (never below the lowest:
control.domain.budget says why), committed like any view once the engine acked it. A layer the
engine tells silent (no media in two passes running: `Media.silent`) was stopped by its publisher's
browser, and the consumers of its track forward the nearest layer still sent
(control.domain.layers.sent_layer) until it is back.

A subscriber without an estimate yet (just joined, or its client sends no feedback) has no caps: its
tiles' sizes alone decide. Decisions are made at most once per engine tick per meeting: the events of
one tick arrive together and are decided on after them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from control.domain.budget import Video, fit
from control.domain.layers import choose_layer, priority
from control.domain.meeting_state import media_plan
from control.engines import EngineEvent
from control.engines.events import RegistryEvent
from control.meetings.errors import MeetingError
from control.meetings.live import LiveMeeting
from control.meetings.media_records import Peer

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

ESTIMATE = "transport_estimate_changed"
"""The engine event naming a transport's new estimate (`estimate_bps`)."""
BITRATE = "producer_bitrate_changed"
"""The engine event naming a producer's new measured bitrate (`bitrate_bps`)."""


class SubscriberBandwidth:
    """Listens to the registry for estimates and bitrates; keeps each meeting's caps."""

    def __init__(self, service: MeetingService) -> None:
        self.service = service
        self.estimates: dict[str, dict[str, int]] = {}
        """meeting id → transport id → its estimate, bit/s."""
        self.bitrates: dict[str, dict[str, int]] = {}
        """meeting id → producer id → its measured bitrate, bit/s."""
        self.quiet: dict[str, set[str]] = {}
        """meeting id → its video producers the engine last told silent (no media in two passes)."""
        self._deciding: set[str] = set()

    def on_registry_event(self, event: RegistryEvent) -> None:
        if not isinstance(event, EngineEvent) or event.event not in (ESTIMATE, BITRATE):
            return
        live = self.service.live.get(str(event.data.get("router_id")))
        if live is None:
            return  # a meeting this process does not hold (moved, ended)
        if event.event == ESTIMATE:
            name, value = event.data.get("transport_id"), event.data.get("estimate_bps")
            into = self.estimates.setdefault(live.id, {})
        else:
            name, value = event.data.get("producer_id"), event.data.get("bitrate_bps")
            into = self.bitrates.setdefault(live.id, {})
        if not isinstance(name, str) or not isinstance(value, int) or isinstance(value, bool) or value < 0:
            log.info("meeting %s: %s event ignored: %r", live.id, event.event, event.data)
            return
        into[name] = value
        if event.event == BITRATE:
            quiet = self.quiet.setdefault(live.id, set())
            if event.data.get("silent") is True:
                quiet.add(name)
            else:
                quiet.discard(name)
        if live.id not in self._deciding:
            self._deciding.add(live.id)
            self.service.spawn(self._decide(live))

    async def _decide(self, live: LiveMeeting) -> None:
        await asyncio.sleep(0)  # the rest of the tick's events first
        self._deciding.discard(live.id)
        try:
            await self.service.publishing.budget(
                live, self.caps, self.silent(live.id), self.service.speakers.current.get(live.id)
            )
        except MeetingError as error:  # the engine refused or the meeting went: the layers stay
            log.info("meeting %s: layers for the bandwidth not changed: %s", live.id, error)

    def silent(self, meeting_id: str) -> frozenset[str]:
        """The meeting's video producers the engine last told silent: simulcast layers their browser
        stopped sending (or was told to stop, as nobody wanted them)."""
        return frozenset(self.quiet.get(meeting_id, ()))

    def caps(self, live: LiveMeeting) -> dict[str, int]:
        """consumer → its cap, for every subscriber of `live` with an estimate."""
        estimates = self.estimates.get(live.id, {})
        out: dict[str, int] = {}
        for peer in live.media.peers.values():
            estimate = estimates.get(peer.sub_transport or "")
            if estimate is not None:
                out.update(self._subscriber(live, peer, estimate))
        return out

    def _subscriber(self, live: LiveMeeting, peer: Peer, estimate: int) -> dict[str, int]:
        speaker = self.service.speakers.current.get(live.id)
        bitrates = self.bitrates.get(live.id, {})
        plan = media_plan(live.state)
        videos: list[Video] = []
        audio = 0
        for s in peer.subscriptions:
            if not s.active:
                continue
            publisher = live.media.peers.get(s.publisher)
            publication = publisher.publications.get(s.source) if publisher else None
            if s.kind == "audio":  # a muted microphone's gate is closed at its producer: it costs nothing
                audio += 0 if s.paused or publication is None or publication.paused else 1
                continue
            if publication is None or s.size is None or not plan.may_receive(s.publisher, s.source, peer.pid):
                continue  # no tile yet, or not allowed: nothing is forwarded it would budget for
            layers = publication.layer_ids
            speaking = speaker is not None and s.publisher == speaker
            asked = choose_layer(len(layers), s.source, *s.size, speaking)
            if asked is None:
                continue  # hidden: paused whatever the budget
            videos.append(
                Video(
                    s.consumer_id,
                    priority(s.source, speaking),
                    asked,
                    tuple(bitrates.get(layer, 0) for layer in layers),
                    area=s.size[0] * s.size[1],
                    current=None if s.paused else s.wanted_layer,
                )
            )
        return dict(fit(estimate, videos, audio))

    def forget(self, meeting_id: str) -> None:
        self.estimates.pop(meeting_id, None)
        self.bitrates.pop(meeting_id, None)
        self.quiet.pop(meeting_id, None)
