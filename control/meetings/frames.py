"""The frames the server sends on the participant WebSocket (docs/signaling.md), typed as the
incoming ones are (control.signaling): one pydantic model per frame type, and the builders that
fill them from a live meeting. `wire()` gives the JSON object a socket sends.

Timestamps are ISO 8601 in UTC with a Z (`control.domain.meeting_state.iso`) in every frame, as in
refusal messages and the REST API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from control.domain.meeting_state import Participant, listed
from control.domain.moderation import waiting_for_moderator
from control.domain.moderation.authority import may_take_seat
from control.meetings import visibility
from control.meetings.live import LiveMeeting
from control.meetings.media_records import Publication, Subscription
from control.meetings.visibility import Viewer

MediaOnResume = Literal["kept", "renew", "wait"]
"""A resumed participant's media: `kept` (their transports still exist: keep both peer connections),
`renew` (make new peer connections and publish again, as after `reconnect`), `wait` (the meeting is
moving to another worker: a `reconnect` frame follows)."""

EVERYONE = Viewer(True)
"""A viewer who sees every name (for comparisons, never sent)."""


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class OutFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


# ---- parts ------------------------------------------------------------------------------------


class ParticipantView(BaseModel):
    """A participant as one viewer may see them (name only by the rule "Show all usernames")."""

    id: str
    name: str | None
    label: str
    role: str
    registered: bool
    waiting: bool
    capabilities: list[str]
    sources_on: list[str]
    floor: bool
    visiting: str | None
    tracks: list[str]
    hidden: bool = False
    """Unlisted: shown only to moderators and to themselves."""
    may_organize: bool = False
    """A registered person holding moderator or organizer rights for the room: one who may take the
    organizer seat (`hand_over`), whatever their role in the meeting now."""


class Features(BaseModel):
    waiting_room: bool
    screen_share: bool
    chat: bool
    participants_may_start: bool = False


class ConsumerView(BaseModel):
    mid: str
    consumer_id: str
    participant_id: str
    source: str
    kind: str
    stream_id: str
    track_id: str
    active: bool


class ProducerView(BaseModel):
    id: str
    mid: str
    source: str
    kind: str


# ---- frames -----------------------------------------------------------------------------------


class Joined(OutFrame):
    type: Literal["joined"] = "joined"
    meeting_id: str
    room_id: str
    participant_id: str
    you: ParticipantView
    participants: list[ParticipantView]
    presenter_mode: bool
    chat_enabled: bool
    recording: bool = False
    """A recording of the meeting runs (the indicator everyone sees)."""
    names_visible: bool
    waiting: list[ParticipantView]
    features: Features
    waiting_for: Literal["moderator", "admission"] | None = None
    """Why `you` wait: no moderator is present yet, or a moderator is to admit you; null: admitted."""
    resume_token: str
    """Join with it (`join.resume`) to come back as this same participant (docs/signaling.md, "Resuming")."""
    resumed: bool
    """Whether this join resumed a participant who was in the meeting already."""
    media: MediaOnResume | None = None
    """With `resumed` only: what to do with the peer connections (absent otherwise)."""
    ice_servers: list[dict[str, Any]] = []
    """RTCIceServer objects (TURN with this participant's credentials) for its peer connections."""

    def wire(self) -> dict[str, Any]:
        frame = super().wire()
        if frame["media"] is None:
            del frame["media"]
        return frame


class ParticipantJoined(OutFrame):
    type: Literal["participant-joined"] = "participant-joined"
    participant: ParticipantView


class ParticipantLeft(OutFrame):
    type: Literal["participant-left"] = "participant-left"
    participant_id: str
    reason: str


class WaitingRoom(OutFrame):
    type: Literal["waiting-room"] = "waiting-room"
    waiting: list[ParticipantView]


class Admitted(OutFrame):
    type: Literal["admitted"] = "admitted"
    participants: list[ParticipantView]
    presenter_mode: bool
    chat_enabled: bool
    recording: bool = False


class SentBack(OutFrame):
    type: Literal["sent-back"] = "sent-back"


class Track(OutFrame):
    type: Literal["track-published", "track-unpublished"]
    participant_id: str
    source: str
    kind: str


class SourceChanged(OutFrame):
    type: Literal["source-changed"] = "source-changed"
    participant_id: str
    source: str
    on: bool
    by: str | None


class PermissionChanged(OutFrame):
    type: Literal["permission-changed"] = "permission-changed"
    participant_id: str
    capability: str
    held: bool
    by: str | None


class RoleChanged(OutFrame):
    type: Literal["role-changed"] = "role-changed"
    participant_id: str
    role: str


class FloorChanged(OutFrame):
    type: Literal["floor-changed"] = "floor-changed"
    participant_id: str
    floor: bool


class RoomChanged(OutFrame):
    type: Literal["room-changed"] = "room-changed"
    presenter_mode: bool
    chat_enabled: bool


class RecordingChanged(OutFrame):
    """To everyone, the waiting room included: recording started or stopped (`by`: the moderator)."""

    type: Literal["recording-changed"] = "recording-changed"
    recording: bool
    by: str | None
    recording_id: str | None = None


class ParticipantHidden(OutFrame):
    """To moderators and the person: a participant was hidden (unlisted) or listed again (others get
    `participant-left` with reason `hidden`, or `participant-joined`)."""

    type: Literal["participant-hidden"] = "participant-hidden"
    participant_id: str
    hidden: bool


class Visit(OutFrame):
    type: Literal["visit-started", "visit-ended"]
    moderator_id: str
    participant_id: str


class ChatMessage(OutFrame):
    type: Literal["chat"] = "chat"
    id: int | str
    from_: str = Field(alias="from")
    from_name: str | None
    to: str | None
    to_name: str | None = None
    text: str
    at: str
    """ISO 8601, UTC."""


class Notice(OutFrame):
    type: Literal["notice"] = "notice"
    code: str
    message: str


class ActiveSpeaker(OutFrame):
    """Who speaks now (control.meetings.speaker): a participant id, or None (nobody)."""

    type: Literal["active-speaker"] = "active-speaker"
    participant: str | None


class Layers(OutFrame):
    """The simulcast layers of one of the recipient's tracks that somebody consumes
    (control.meetings.encodings): indices into its encodings, lowest first; the others may stop."""

    type: Literal["layers"] = "layers"
    source: str
    active: list[int]


class Disconnected(OutFrame):
    type: Literal["disconnected"] = "disconnected"
    reason: str
    until: str | None = None
    """The end of a removal: ISO 8601, UTC."""


class MeetingEnded(OutFrame):
    type: Literal["meeting-ended"] = "meeting-ended"
    reason: str


class Reconnect(OutFrame):
    type: Literal["reconnect"] = "reconnect"
    reason: str


class SubscribeOffer(OutFrame):
    type: Literal["subscribe-offer"] = "subscribe-offer"
    version: int
    sdp: str
    consumers: list[ConsumerView]


class PublishAnswer(OutFrame):
    type: Literal["publish-answer"] = "publish-answer"
    sdp: str
    producers: list[ProducerView]
    ref: str | None = None


class ProducerClosed(OutFrame):
    type: Literal["producer-closed"] = "producer-closed"
    source: str
    ref: str | None = None


class Moderated(OutFrame):
    type: Literal["moderated"] = "moderated"
    action: str
    version: int | None
    """The engine table version that enforces the action (None: no media changed)."""
    ref: str | None = None


class Ok(OutFrame):
    type: Literal["ok"] = "ok"
    ref: str | None = None


class Pong(OutFrame):
    type: Literal["pong"] = "pong"
    ref: str | None = None


class Error(OutFrame):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None
    retry_after: int | None = None
    """Seconds until the refused request may be retried (`rate_limited` only; absent otherwise)."""
    url: str | None = None
    """The signaling URL of the replica that runs the meeting (`meeting_elsewhere` only; absent
    otherwise): join there."""

    def wire(self) -> dict[str, Any]:
        frame = super().wire()
        for optional in ("retry_after", "url"):
            if frame[optional] is None:
                del frame[optional]
        return frame


# ---- builders ---------------------------------------------------------------------------------


def participant(live: LiveMeeting, p: Participant, viewer: Viewer) -> ParticipantView:
    peer = live.media.peers.get(p.id)
    name = visibility.shown(viewer, p.person, live.names.get(p.id, ""))
    return ParticipantView(
        id=p.id,
        name=name,
        label=name if name is not None else visibility.label(live.numbers.get(p.id, 0)),
        role=str(p.role),
        registered=p.registered,
        waiting=p.waiting,
        capabilities=sorted(str(c) for c in p.capabilities),
        sources_on=sorted(str(s) for s in p.sources_on),
        floor=p.floor,
        visiting=p.visiting,
        tracks=sorted(str(s) for s in peer.publications) if peer else [],
        hidden=p.hidden,
        may_organize=p.registered and may_take_seat(p.rights),
    )


def admitted(live: LiveMeeting, me: Participant) -> Admitted:
    """The room as `me` sees it (nobody while they wait)."""
    state = live.state
    viewer = live.viewer(me.id)
    return Admitted(
        participants=[participant(live, p, viewer) for p in state.admitted() if listed(p, me)] if me.admitted else [],
        presenter_mode=state.presenter_mode,
        chat_enabled=state.chat_enabled,
        recording=state.recording,
    )


def joined(
    live: LiveMeeting,
    me: Participant,
    resume_token: str,
    *,
    resumed: bool = False,
    media: MediaOnResume | None = None,
    ice_servers: list[dict[str, Any]] | None = None,
) -> Joined:
    state = live.state
    viewer = live.viewer(me.id)
    room = admitted(live, me)
    return Joined(
        meeting_id=live.id,
        room_id=live.room_id,
        participant_id=me.id,
        you=participant(live, me, viewer),
        participants=room.participants,
        presenter_mode=room.presenter_mode,
        chat_enabled=room.chat_enabled,
        recording=state.recording,
        names_visible=viewer.names,
        waiting=[participant(live, p, viewer) for p in state.waiting()] if me.role.moderates else [],
        features=Features(
            waiting_room=state.features.waiting_room,
            screen_share=state.features.screen_share,
            chat=state.chat_enabled,
            participants_may_start=state.features.participants_may_start,
        ),
        waiting_for=None if me.admitted else "moderator" if waiting_for_moderator(state, me) else "admission",
        resume_token=resume_token,
        resumed=resumed,
        media=media,
        ice_servers=ice_servers or [],
    )


def waiting_room(live: LiveMeeting, viewer: Viewer) -> WaitingRoom:
    return WaitingRoom(waiting=[participant(live, p, viewer) for p in live.state.waiting()])


def subscribe_offer(version: int, sdp: str, subscriptions: list[Subscription]) -> SubscribeOffer:
    return SubscribeOffer(
        version=version,
        sdp=sdp,
        consumers=[
            ConsumerView(
                mid=s.mid,
                consumer_id=s.consumer_id,
                participant_id=s.publisher,
                source=str(s.source),
                kind=s.kind,
                stream_id=s.publisher,
                track_id=s.consumer_id,
                active=s.active,
            )
            for s in subscriptions
        ],
    )


def publish_answer(sdp: str, publications: list[Publication]) -> PublishAnswer:
    """The reply to `publish` (the socket adds the request's ref)."""
    return PublishAnswer(
        sdp=sdp,
        producers=[ProducerView(id=p.producer_id, mid=p.mid, source=str(p.source), kind=p.kind) for p in publications],
    )
