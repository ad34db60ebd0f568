"""Hook points for the layers beside meetings (chat, attendance): `MeetingService.add_observer`.

An observer implements any of these async methods (all optional; failures are logged, never fatal).
They run after the change is committed and enforced in the engine, one at a time, in the order the
changes were committed (`MeetingService.observed()` waits until every queued one has run).
"""

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    room_id: str
    company_id: str


class MeetingEvents(Protocol):
    async def participant_joined(self, meeting: MeetingInfo, participant_id: str, person: str, name: str) -> None:
        """Someone entered the meeting itself. `person`: u:<user id> or g:<invitation id>. An arrival
        into the waiting room is `participant_waiting` (with person and name) instead."""

    async def participant_waiting(self, meeting: MeetingInfo, participant_id: str, person: str | None = None,
                                  name: str = "") -> None:
        """Someone arrived in the waiting room (`person` and `name` given), or was sent back to it
        (None: known from their arrival)."""

    async def participant_admitted(self, meeting: MeetingInfo, participant_id: str) -> None:
        """A waiting participant was let into the meeting."""

    async def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        """A participant's role (organizer, moderator, participant): on arrival, and on every change
        (appointment, hand-over, succession, being sent back)."""

    async def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        """Someone left or was disconnected (reason: control.domain.moderation.Reason values)."""

    async def source_changed(self, meeting: MeetingInfo, participant_id: str, source: str, on: bool) -> None:
        """A microphone, camera or screen went on or off."""

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        """The meeting is over."""

    async def chat_message(self, meeting: MeetingInfo, sender_id: str, sender_name: str, to: str | None,
                           text: str) -> dict[str, Any] | None:
        """Called once policy allowed a chat message (check_chat). Return the message to deliver:
        {"id", "from", "from_name", "to", "text", "at"} (e.g. after persisting it), or None to let
        the service build it. The service delivers it as a `chat` frame."""
