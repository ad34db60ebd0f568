"""Who speaks: the engine's dominant speaker of each meeting (engine/speaker.py decides it from the
RFC 6464 audio levels of the router's open audio producers), told to the meeting's clients as
``{"type": "active-speaker", "participant": <id> | null}`` (docs/signaling.md).

The engine names a producer; this module names its participant, and only for a microphone whose
gate the control plane holds open: a muted or revoked microphone (its gate closed, so the engine
has no levels of it either) and other audio (a shared screen's) never make anyone the speaker. A
hidden speaker is told as null to those who do not see them listed. A change of speaker also chooses
the cameras' simulcast layers again (control.domain.layers: the speaker's camera comes first after
screen shares).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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


def speaker_of(live: LiveMeeting, producer_id: object) -> str | None:
    """The participant whose open microphone is `producer_id`, or None."""
    for pid, peer in live.media.peers.items():
        for publication in peer.publications.values():
            if publication.producer_id == producer_id:
                open_microphone = publication.source == Source.MICROPHONE and not publication.paused
                return pid if open_microphone and live.state.get(pid) is not None else None
    return None


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

    def on_registry_event(self, event: RegistryEvent) -> None:
        if not isinstance(event, EngineEvent) or event.event != EVENT:
            return
        live = self.service.live.get(str(event.data.get("router_id")))
        if live is None or live.media.worker_id != event.worker_id:
            return  # an event of a meeting this process does not hold there (moved, ended)
        self.tell(live, speaker_of(live, event.data.get("producer_id")))

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
