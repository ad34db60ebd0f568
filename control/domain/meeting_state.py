"""A running meeting as plain frozen data, and the media matrix it implies.

No I/O and no clock: every function that depends on time takes `now` (seconds since the epoch).
States are values: every change builds a new `MeetingState` (see `control.domain.moderation`).

The most important function here is `media_plan(state)`: for every participant and every source it
says whether the producer gate is open and who may receive it. The engine's forwarding table is
reconciled against it, and `plan_changes(old, new)` turns two plans into the gate operations that
move the engine from one to the other.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from control.domain.roles import (
    REQUIRED_CAPABILITY,
    VISIT_SOURCES,
    Capability,
    Role,
    Source,
)

USER_PREFIX = "u:"
"""Person key of a registered user: u:<user id>. Guests' keys are g:<invitation id>."""

DEFAULT_REMOVAL_SECONDS = 12 * 3600
"""How long "remove for a period" keeps a person out unless the room configures otherwise."""


# --- results shared by the policy modules ------------------------------------------------------


class Code(StrEnum):
    """Why a request is refused; each value is a stable API error code."""

    MEETING_ENDED = "meeting_ended"
    """The meeting is over; nothing more happens in it."""
    UNKNOWN_PARTICIPANT = "unknown_participant"
    """The actor or the target is not in the meeting."""
    ALREADY_IN_MEETING = "already_in_meeting"
    """A participant id is already taken."""
    MISSING_ARGUMENT = "missing_argument"
    """The action needs a target, source, capability, person or scope that was not given."""
    INVALID_ARGUMENT = "invalid_argument"
    """An argument is of the wrong kind for the action (e.g. a negative removal period)."""
    ROLE_TOO_LOW = "role_too_low"
    """The actor's role does not allow the action at all (participants manage nobody)."""
    TARGET_NOT_LOWER = "target_not_lower"
    """Nobody acts on an equal or higher role (muting excepted)."""
    NOT_SELF = "not_self"
    """Only the person themselves may do this (turn their own source on, leave)."""
    SELF_NOT_ALLOWED = "self_not_allowed"
    """This action cannot target oneself (e.g. granting oneself a permission)."""
    ACTOR_WAITING = "actor_waiting"
    """People in the waiting room can only turn their own microphone or camera on or off, and leave."""
    TARGET_WAITING = "target_waiting"
    """The target is in the waiting room, and the action needs an admitted participant."""
    TARGET_NOT_WAITING = "target_not_waiting"
    """The action (admit, deny, visit) needs a person in the waiting room."""
    NO_WAITING_ROOM = "no_waiting_room"
    """The room has no waiting room, so nobody can be sent back to it."""
    PERMISSION_MISSING = "permission_missing"
    """The participant does not hold the capability the source or chat needs."""
    FLOOR_REQUIRED = "floor_required"
    """In presenter mode only holders of the floor may turn their microphone on."""
    NOT_A_MODERATOR = "not_a_moderator"
    """The named person must be a moderator (hand-over)."""
    GUEST_CANNOT_ORGANIZE = "guest_cannot_organize"
    """Only registered users may become organizer."""
    RIGHTS_MISSING = "rights_missing"
    """The named person does not hold the room rights the role needs (hand-over: moderator or
    organizer rights for the room)."""
    ROOM_RIGHTS_HOLDER = "room_rights_holder"
    """Holders of organizer rights for the room are never removed or banned from it; their access
    right is changed instead."""
    ROOM_FULL = "room_full"
    """The room's maximum participants are present."""
    COMPANY_QUOTA_REACHED = "company_quota_reached"
    """The company's quota of participants online at once is reached."""
    LAST_MODERATOR = "last_moderator"
    """Stepping down would leave the meeting without a moderator."""
    ALREADY_VISITED = "already_visited"
    """Another moderator is visiting that waiting person."""
    CHAT_DISABLED = "chat_disabled"
    """Chat is disabled for the room."""
    BANNED = "banned"
    """The person is banned from the room."""
    REMOVED = "removed"
    """The person was removed for a period that has not ended."""
    EXCLUDED = "excluded"
    """The person was excluded from this meeting."""
    # the whiteboard, settings requests and remote control
    WHITEBOARD_OP_TOO_LARGE = "whiteboard_op_too_large"
    """A whiteboard operation over a size bound (points of a stroke, characters of a text, erased items)."""
    WHITEBOARD_FULL = "whiteboard_full"
    """The meeting's whiteboard holds as many operations (or stroke points) as it may."""
    NOTHING_TO_UNDO = "nothing_to_undo"
    """An undo found none of one's own whiteboard operations that still count."""
    RATE_LIMITED = "rate_limited"
    """Too many operations per second (whiteboard operations, remote-control events)."""
    NOT_SHARING = "not_sharing"
    """Remote control needs the participant to be sharing their screen."""
    NO_SUCH_REQUEST = "no_such_request"
    """A settings request or remote-control session that is not pending or running for the caller."""
    ALREADY_CONTROLLED = "already_controlled"
    """The participant's screen is already under (or offered for) another moderator's control."""
    # recording
    ALREADY_RECORDING = "already_recording"
    """A recording of the meeting is running: stop it before starting another."""
    NOT_RECORDING = "not_recording"
    """No recording of the meeting is running."""
    # invitations
    INVITEE_NAME_REQUIRED = "invitee_name_required"
    """Invitations are personalized: they name one invitee."""
    INVALID_WINDOW = "invalid_window"
    """An invitation's window must end after it starts."""
    EXPIRY_IN_PAST = "expiry_in_past"
    """An invitation's window must not have ended already (as a group link's expiry)."""
    RIGHTS_NOT_HELD = "rights_not_held"
    """An invitation is issued only with rights the issuer holds."""
    REVOKED = "revoked"
    """The invitation was revoked."""
    NOT_YET_VALID = "not_yet_valid"
    """The invitation's window has not started."""
    EXPIRED = "expired"
    """The invitation's window has ended."""
    ALREADY_USED_ELSEWHERE = "already_used_elsewhere"
    """The invitation was redeemed by another browser; it is single-use and bound to that one."""


@dataclass(frozen=True)
class Refused:
    """A request that policy refuses."""

    code: Code
    """Stable machine-readable reason."""
    message: str
    """Precise human-readable explanation."""


@dataclass(frozen=True)
class Ok:
    """A check that passed (for checks that produce no new state)."""


# --- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomFeatures:
    """The room's configuration, fixed for the meeting's lifetime."""

    waiting_room: bool = False
    """Arrivals wait, isolated from the meeting's media, until a moderator admits them."""
    screen_share: bool = True
    """Participants start with the screen-share capability (moderators always do)."""
    removal_seconds: float = DEFAULT_REMOVAL_SECONDS
    """Default length of "remove for a period"."""
    participants_may_start: bool = False
    """People without moderator rights enter while no moderator is present (otherwise they wait for
    one)."""


@dataclass(frozen=True)
class Participant:
    """One connection of a person to the meeting."""

    id: str
    """Participant id, unique within the meeting."""
    person: str
    """Stable person key (user id, or the guest key of a personalized invitation): what removals and
    bans apply to."""
    registered: bool
    """A registered user (True) or a guest (False). Only registered users may be organizer."""
    role: Role = Role.PARTICIPANT
    """Role in this meeting."""
    rights: Role = Role.PARTICIPANT
    """The highest role the person's rights in the room give them (access right, or Administrate
    rooms as organizer); guests hold participant rights. Roles above it are only ever appointed by a
    moderator, never taken by succession (`control.domain.moderation.authority`)."""
    joined_at: float = 0.0
    """When they joined; orders successor choice (ties broken by id)."""
    waiting: bool = False
    """In the waiting room: no media to or from the meeting (except a moderator's visit)."""
    capabilities: frozenset[Capability] = frozenset()
    """Per-participant permissions currently held."""
    sources_on: frozenset[Source] = frozenset()
    """Sources the participant has turned on (unmuted). A source is forwarded only if also permitted."""
    floor: bool = False
    """Holds the floor (presenter): in presenter mode only floor holders may unmute."""
    visiting: str | None = None
    """For a moderator: the waiting participant they are visiting, if any."""
    hidden: bool = False
    """Unlisted (an interpreter, a recorder): absent from the participant lists and counts of everyone
    but moderators and themselves (`listed`)."""

    @property
    def admitted(self) -> bool:
        return not self.waiting

    def holds(self, capability: Capability) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True)
class Removal:
    """A person kept out of the room until a moment: no token or link lets them back in before it."""

    person: str
    """The person key removed."""
    until: float
    """End of the removal, seconds since the epoch (exclusive)."""


@dataclass(frozen=True)
class MeetingState:
    """Everything policy needs to know about one running meeting."""

    features: RoomFeatures = field(default_factory=RoomFeatures)
    """The room's configuration."""
    participants: tuple[Participant, ...] = ()
    """Present participants (admitted or waiting), ordered by (joined_at, id)."""
    presenter_mode: bool = False
    """In presenter mode only holders of the floor may unmute."""
    chat_enabled: bool = True
    """Room-wide chat switch; when off only moderators may send."""
    removals: frozenset[Removal] = frozenset()
    """Room removals for a period (expired ones may linger; they no longer count)."""
    bans: frozenset[str] = frozenset()
    """Person keys banned from the room until unbanned."""
    excluded: frozenset[str] = frozenset()
    """Person keys excluded from this meeting (they may join later meetings)."""
    ended: bool = False
    """The meeting is over."""
    recording: bool = False
    """A recording runs: the worker sends every producer to the recorder, everyone sees the
    indicator (control.domain.moderation: start_recording, stop_recording)."""

    # queries

    def get(self, participant_id: str | None) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def admitted(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.admitted)

    def waiting(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.waiting)

    def moderators(self) -> tuple[Participant, ...]:
        """Admitted moderators, the organizer included."""
        return tuple(p for p in self.participants if p.admitted and p.role.moderates)

    def moderated(self) -> bool:
        """Whether an admitted moderator is present: without one, arrivals without moderator rights
        wait (unless the room lets participants start)."""
        return bool(self.moderators())

    def organizer(self) -> Participant | None:
        for p in self.participants:
            if p.role is Role.ORGANIZER:
                return p
        return None

    def visitor_of(self, participant_id: str) -> Participant | None:
        """The moderator visiting this waiting participant, if any."""
        for p in self.participants:
            if p.visiting == participant_id:
                return p
        return None

    def of_person(self, person: str) -> tuple[Participant, ...]:
        """All connections of one person (a person may join from several devices)."""
        return tuple(p for p in self.participants if p.person == person)

    # changes (no policy here: callers check first)

    def put(self, participant: Participant) -> "MeetingState":
        """Insert or replace a participant, keeping the canonical order."""
        rest = [p for p in self.participants if p.id != participant.id]
        rest.append(participant)
        return replace(self, participants=tuple(sorted(rest, key=lambda p: (p.joined_at, p.id))))

    def drop(self, participant_id: str) -> "MeetingState":
        """Remove a participant, and forget any visit to or by them (see `moderation` for what
        ending a visit also does)."""
        kept = []
        for p in self.participants:
            if p.id == participant_id:
                continue
            if p.visiting == participant_id:
                p = replace(p, visiting=None)
            kept.append(p)
        return replace(self, participants=tuple(kept))


# --- presence ----------------------------------------------------------------------------------


def listed(p: Participant, viewer: Participant | None) -> bool:
    """Whether `viewer` (None: someone outside the meeting) sees `p` in participant lists and counts:
    everyone is listed except hidden people, whom only admitted moderators and they themselves see."""
    if not p.hidden:
        return True
    return viewer is not None and (viewer.id == p.id or (viewer.admitted and viewer.role.moderates))


def listed_count(state: MeetingState) -> int:
    """How many admitted people the meeting shows to those outside it (hidden people not counted)."""
    return sum(1 for p in state.admitted() if not p.hidden)


# --- entry -----------------------------------------------------------------------------------


def removed_until(removals: Iterable[Removal], person: str, now: float) -> float | None:
    """The end of the person's longest running removal, or None if none is running at `now`."""
    ends = [r.until for r in removals if r.person == person and r.until > now]
    return max(ends) if ends else None


def iso(seconds: float) -> str:
    """An instant (seconds since the epoch) as every message and signaling frame writes it: ISO 8601
    in UTC with a Z, as the REST API does."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def entry_refusal(
    person: str,
    now: float,
    *,
    removals: Iterable[Removal] = (),
    bans: Iterable[str] = (),
    excluded: Iterable[str] = (),
) -> Refused | None:
    """Why the person may not enter the room (by login token or invitation link), or None."""
    if person in frozenset(bans):
        return Refused(Code.BANNED, f"{person} is banned from this room")
    until = removed_until(removals, person, now)
    if until is not None:
        return Refused(Code.REMOVED, f"{person} is removed from this room until {iso(until)}")
    if person in frozenset(excluded):
        return Refused(Code.EXCLUDED, f"{person} was excluded from this meeting")
    return None


# --- the media matrix ------------------------------------------------------------------------

ProducerKey = tuple[str, Source]
"""(publishing participant id, source): one producer as policy names it."""


def producer_open(state: MeetingState, p: Participant, source: Source) -> bool:
    """Whether the gate of `p`'s `source` producer is open: every condition must hold.

    1. the meeting runs;
    2. `p` turned the source on;
    3. `p` holds the capability the source needs (a revoked source is never open);
    4. in presenter mode, a microphone that reaches the meeting is open only for a holder of the
       floor (see `floor_required`);
    5. a waiting participant sends nothing, except microphone and camera while a moderator visits.
    """
    if state.ended:
        return False
    if source not in p.sources_on:
        return False
    if not p.holds(REQUIRED_CAPABILITY[source]):
        return False
    if floor_required(state, p, source) and not p.floor:
        return False
    if p.waiting:
        return source in VISIT_SOURCES and state.visitor_of(p.id) is not None
    return True


def floor_required(state: MeetingState, p: Participant, source: Source) -> bool:
    """In presenter mode only holders of the floor may unmute: a microphone that would reach the
    meeting needs the floor. A visit is not the meeting: the waiting person, and the visiting
    moderator (whose microphone then goes to the visited person only), need no floor."""
    return state.presenter_mode and source is Source.MICROPHONE and p.admitted and p.visiting is None


def audience(state: MeetingState, p: Participant, source: Source) -> frozenset[str]:
    """Who may receive `p`'s `source` (the consumer gates that are open), whether or not it is on.

    - A waiting participant's media goes to nobody, except microphone and camera to the visiting
      moderator.
    - A visiting moderator's microphone and camera go to the one waiting person they visit, and to
      nobody else: a visit is a private two-way conversation. Their screen still goes to the meeting.
    - Every other producer of an admitted participant goes to every other admitted participant.
    Waiting participants therefore receive only their visitor's microphone and camera.
    """
    if state.ended:
        return frozenset()
    if p.waiting:
        visitor = state.visitor_of(p.id)
        if visitor is not None and source in VISIT_SOURCES:
            return frozenset({visitor.id})
        return frozenset()
    if p.visiting is not None and source in VISIT_SOURCES:
        return frozenset({p.visiting})
    return frozenset(q.id for q in state.participants if q.admitted and q.id != p.id)


@dataclass(frozen=True)
class MediaPlan:
    """The desired forwarding table of a meeting, total over participants × sources."""

    open_producers: frozenset[ProducerKey]
    """Producer gates that are open; every other (participant, source) gate is closed."""
    audiences: dict[ProducerKey, frozenset[str]]
    """For every (participant, source): the participants whose consumer gate for it is open."""

    def is_open(self, participant_id: str, source: Source) -> bool:
        return (participant_id, source) in self.open_producers

    def may_receive(self, publisher: str, source: Source, subscriber: str) -> bool:
        return subscriber in self.audiences.get((publisher, source), frozenset())

    def routes(self) -> Iterator[tuple[str, Source, str]]:
        """Every open consumer gate as (publisher, source, subscriber)."""
        for (publisher, source), subscribers in self.audiences.items():
            for subscriber in subscribers:
                yield publisher, source, subscriber


def media_plan(state: MeetingState) -> MediaPlan:
    """The full desired media matrix of `state` (see `producer_open` and `audience`)."""
    open_producers = set()
    audiences = {}
    for p in state.participants:
        for source in Source:
            if producer_open(state, p, source):
                open_producers.add((p.id, source))
            audiences[(p.id, source)] = audience(state, p, source)
    return MediaPlan(frozenset(open_producers), audiences)


@dataclass(frozen=True)
class GateProducer:
    """Open or close one producer gate in the engine."""

    participant: str
    """The publishing participant."""
    source: Source
    """Which of their producers."""
    open: bool
    """True to forward its packets, False to drop them."""


@dataclass(frozen=True)
class GateConsumer:
    """Open or close one consumer gate: whether `subscriber` receives `publisher`'s `source`."""

    publisher: str
    """The publishing participant."""
    source: Source
    """Which of their producers."""
    subscriber: str
    """The receiving participant."""
    open: bool
    """True to send this copy, False to stop it."""


GateChange = GateProducer | GateConsumer


def plan_changes(old: MediaPlan, new: MediaPlan) -> list[GateChange]:
    """The gate operations that turn `old` into `new`: every close first, then every open, each
    group in a stable order, so applying them in order never forwards more than either plan allows."""
    old_routes, new_routes = set(old.routes()), set(new.routes())
    closed = sorted(old.open_producers - new.open_producers)
    closes: list[GateChange] = [GateProducer(pid, s, False) for pid, s in closed]
    closes += [GateConsumer(pub, s, sub, False) for pub, s, sub in sorted(old_routes - new_routes)]
    opens: list[GateChange] = [GateConsumer(pub, s, sub, True) for pub, s, sub in sorted(new_routes - old_routes)]
    opens += [GateProducer(pid, s, True) for pid, s in sorted(new.open_producers - old.open_producers)]
    return closes + opens
