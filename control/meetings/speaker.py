"""Who speaks: the engine's dominant speaker of each meeting (contract/speaker.py decides it from the
RFC 6464 audio levels of the router's open audio producers), told to the meeting's clients as
``{"type": "active-speaker", "participant": <id> | null}`` (docs/signaling.md).

The engine names a producer; this module names its participant, and only for a microphone whose
gate the control plane holds open: a muted or revoked microphone (its gate closed, so the engine
has no levels of it either) and other audio (a shared screen's) never make anyone the speaker. A
hidden speaker is told as null to those who do not see them listed. A change of speaker also chooses
the cameras' simulcast layers again (control.domain.layers: the speaker's camera comes first after
screen shares).

A meeting spanning workers has one speaker too: each of its workers reports the levels of the audio
producers it is the origin of (`audio_levels`: a producer is observed best where its publisher sends
it, and a piped copy is never counted), and the control plane decides among all of them with the same
detector (contract.speaker); the workers' own decisions are then ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from contract.speaker import DominantSpeaker
from control.domain.meeting_state import listed
from control.domain.roles import Source
from control.engines import EngineEvent
from control.engines.events import RegistryEvent
from control.meetings import frames
from control.meetings.errors import MeetingError
from control.meetings.live import LiveMeeting

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

EVENT = "dominant_speaker_changed"
"""The engine event's name on the channel (engine.worker.client.EVENT_NAMES)."""
LEVELS = "audio_levels"
"""The levels a worker reports of a spanning meeting's producers it is the origin of."""


def speaker_of(live: LiveMeeting, producer_id: object) -> str | None:
    """The participant whose open microphone is `producer_id`, or None."""
    for pid, peer in live.media.peers.items():
        for publication in peer.publications.values():
            if publication.producer_id == producer_id:
                open_microphone = publication.source == Source.MICROPHONE and not publication.paused
                return pid if open_microphone and live.state.get(pid) is not None else None
    return None


def open_microphones(live: LiveMeeting) -> dict[str, str]:
    """Every open microphone of the meeting → the worker it is published to (its origin)."""
    home = live.media.worker_id
    return {
        publication.producer_id: peer.worker or home
        for peer in live.media.peers.values()
        for publication in peer.publications.values()
        if publication.source == Source.MICROPHONE and not publication.paused
    }


def parse_levels(raw: object) -> dict[str, bytes] | None:
    """An `audio_levels` event's `levels`, [[producer id, hex]...]: None when malformed."""
    if not isinstance(raw, list):
        return None
    out: dict[str, bytes] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], str)):
            return None
        try:
            out[item[0]] = bytes.fromhex(item[1])
        except ValueError:
            return None
    return out


class MeetingSpeaker:
    """The dominant speaker of a meeting spanning workers, from each worker's reports (sans-I/O)."""

    def __init__(self) -> None:
        self.detector = DominantSpeaker()
        self._reported: dict[str, set[str]] = {}
        """worker → the producers its last report fed."""

    def report(
        self, worker: str, levels: Mapping[str, bytes], elapsed: float, now: float, candidates: set[str]
    ) -> object | None:
        """One worker's levels over `elapsed` seconds, of the producers it is the origin of (those
        it no longer reports are no candidates, nor any producer not in `candidates`, such as those
        of a worker lost): the meeting's dominant producer after them."""
        for producer, produced in levels.items():
            self.detector.feed(producer, produced, elapsed)
        for producer in self._reported.get(worker, set()) - levels.keys():
            self.detector.remove(producer)
        self._reported[worker] = set(levels)
        self.detector.keep_only(candidates)
        for reported in self._reported.values():
            reported &= candidates
        return self.detector.decide(now)


def frame(live: LiveMeeting, speaker: str | None, recipient: str) -> dict[str, object]:
    """The `active-speaker` frame for one recipient."""
    subject = live.state.get(speaker)
    shown = speaker if subject is not None and listed(subject, live.state.get(recipient)) else None
    return frames.ActiveSpeaker(participant=shown).wire()


class ActiveSpeakers:
    """Listens to the engine registry for dominant-speaker events and tells each meeting's clients."""

    def __init__(self, service: MeetingService) -> None:
        self.service = service
        self.current: dict[str, str | None] = {}
        """meeting id → the participant told last as speaking."""
        self.spanning: dict[str, MeetingSpeaker] = {}
        """meeting id → its meeting-wide decision, while it spans workers."""
        self.clock = time.monotonic

    def on_registry_event(self, event: RegistryEvent) -> None:
        if not isinstance(event, EngineEvent) or event.event not in (EVENT, LEVELS):
            return
        live = self.service.live.get(str(event.data.get("router_id")))
        if live is None:
            return  # an event of a meeting this process does not hold (ended, elsewhere)
        spans = bool(live.media.records.workers)
        if not spans:
            self.spanning.pop(live.id, None)
        if event.event == LEVELS:
            if spans and event.worker_id in live.media.records.workers | {live.media.worker_id}:
                self._report(live, event)
        elif not spans and live.media.worker_id == event.worker_id:
            self.tell(live, speaker_of(live, event.data.get("producer_id")))

    def _report(self, live: LiveMeeting, event: EngineEvent) -> None:
        """A spanning meeting's worker reported levels: only those of its own open microphones count."""
        levels, elapsed = parse_levels(event.data.get("levels")), event.data.get("elapsed")
        if levels is None or not isinstance(elapsed, (int, float)) or not 0 <= elapsed <= 10:
            log.warning("meeting %s: malformed audio levels from %s dropped", live.id, event.worker_id)
            return
        microphones = open_microphones(live)
        own = {p: v for p, v in levels.items() if microphones.get(p) == event.worker_id}
        detector = self.spanning.setdefault(live.id, MeetingSpeaker())
        dominant = detector.report(event.worker_id, own, elapsed, self.clock(), set(microphones))
        self.tell(live, speaker_of(live, dominant))

    def tell(self, live: LiveMeeting, speaker: str | None) -> None:
        """Sends `active-speaker` to every admitted client, unless it says what they were told."""
        if self.current.get(live.id) == speaker:
            return
        self.current[live.id] = speaker
        for p in live.state.admitted():
            live.send(p.id, frame(live, speaker, p.id))
        self.service.spawn(self._relayer(live, speaker))

    async def _relayer(self, live: LiveMeeting, speaker: str | None) -> None:
        """The cameras' simulcast layers follow the new speaker (control.domain.layers priority)."""
        try:
            await self.service.publishing.speaking(live, speaker)
        except MeetingError as error:  # the engine refused or the meeting went: the layers stay
            log.info("meeting %s: layers for the speaker not changed: %s", live.id, error)

    def greet(self, live: LiveMeeting, pid: str) -> None:
        """Tells an arrival (or a resumed client) who speaks now, if anyone does."""
        speaker, me = self.current.get(live.id), live.state.get(pid)
        if speaker is not None and me is not None and me.admitted:
            live.send(pid, frame(live, speaker, pid))

    def forget(self, meeting_id: str) -> None:
        self.current.pop(meeting_id, None)
        self.spanning.pop(meeting_id, None)
