"""Moderation rules: who may do what to whom in a running meeting, and what follows.

Pure: every function takes a `MeetingState` (and `now` where time matters) and returns a decision —
`Allowed(state, effects)` or `Refused(code, message)`. Nothing here touches a store, an engine or
a clock. The service applies policy, commits `Allowed.state`, then carries out `Allowed.effects`.

Who may act on whom (`may_act`, over roles only):

- participants manage nobody; they turn their own sources on and off, and leave;
- moderators (the organizer included) act on strictly lower roles, with one exception: muting
  (turning a microphone or camera off, "mute all") applies to everyone, the organizer included;
- moderators never turn someone else's source on; only the person does, holding the capability
  (and, in presenter mode, the floor for the microphone);
- only the organizer hands over or ends the meeting (a moderator ends it when no organizer remains).

Where the issue is silent, this module decides (each rule is tested):

- a moderator who turned someone's microphone or camera off does not stop them turning it on again
  (they still hold the capability); a revoked capability does, until granted back;
- "mute all" spares the acting moderator; presenter mode applies to the microphone only, and to
  everyone without the floor (moderators give themselves the floor);
- a visit is private both ways: the visited person's microphone and camera go to the visitor only,
  and the visitor's microphone and camera go to the visited person only (the meeting keeps their
  screen); ending a visit turns the visitor's microphone and camera off; admission turns the
  admitted person's sources off;
- removal acts on the person: every connection of theirs goes, and only if the actor outranks all;
- succession (`choose_successor`): the organizer seat goes to a registered moderator, else a
  registered participant, earliest joined first, ties by id; with no registered user admitted there
  is no organizer, and if no moderator remains either, the earliest-joined guest moderates; the
  meeting ends when nobody admitted remains;
- hand-over names an admitted, registered moderator (a guest moderator is refused:
  guest_cannot_organize — the organizer may simply leave instead).

Gate effects are not written by hand: every decision's `GateProducer`/`GateConsumer` effects are
`plan_changes(media_plan(old), media_plan(new))`, so they always agree with the media matrix.
Client notices (`RoleChanged`, `PermissionChanged`, `SourceChanged`, …) are likewise derived from
the difference between the two states.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from control.domain.meeting_state import (
    Code,
    GateChange,
    MeetingState,
    Ok,
    Participant,
    Refused,
    Removal,
    RoomFeatures,
    entry_refusal,
    floor_required,
    media_plan,
    plan_changes,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    MUTABLE_BY_MODERATORS,
    VISIT_SOURCES,
    Capability,
    MuteScope,
    Role,
    Source,
    default_capabilities,
    outranks,
    sources_of,
    REQUIRED_CAPABILITY,
)


class Action(StrEnum):
    """Everything a participant can ask of the meeting."""

    # own media and presence
    TURN_ON_SOURCE = "turn_on_source"
    """Unmute one's own source (self only)."""
    TURN_OFF_SOURCE = "turn_off_source"
    """Mute a source: one's own, or — for moderators — someone else's."""
    LEAVE = "leave"
    """Leave the meeting (self only)."""
    # roles
    APPOINT_MODERATOR = "appoint_moderator"
    """Make an admitted participant a moderator (guests included); it grants every capability."""
    REVOKE_MODERATOR = "revoke_moderator"
    """Make a moderator a participant again (only the organizer outranks a moderator)."""
    HAND_OVER = "hand_over"
    """The organizer leaves, naming a registered moderator as the new organizer."""
    # per-participant permissions
    GRANT_PERMISSION = "grant_permission"
    """Give back a capability; it does not turn the source on."""
    REVOKE_PERMISSION = "revoke_permission"
    """Take a capability away: its sources go off and cannot be turned on or produced."""
    ENABLE_CHAT_PARTICIPANT = "enable_chat_participant"
    """Same as granting the chat capability."""
    DISABLE_CHAT_PARTICIPANT = "disable_chat_participant"
    """Same as revoking the chat capability."""
    # the whole room
    MUTE_ALL_AUDIO = "mute_all_audio"
    """Turn every microphone off, the organizer's included; the acting moderator's stays on."""
    MUTE_ALL_VIDEO = "mute_all_video"
    """Turn every camera off, likewise."""
    MUTE_ALL_BOTH = "mute_all_both"
    """Both of the above."""
    START_PRESENTER_MODE = "start_presenter_mode"
    """Only floor holders may unmute; every microphone without the floor goes off."""
    STOP_PRESENTER_MODE = "stop_presenter_mode"
    DISABLE_CHAT_ROOM = "disable_chat_room"
    """Room chat off: only moderators (holding the chat capability) may still send."""
    ENABLE_CHAT_ROOM = "enable_chat_room"
    END_MEETING = "end_meeting"
    """End the meeting for everyone: the organizer, or a moderator where no organizer remains."""
    # the floor
    GIVE_FLOOR = "give_floor"
    """Make an admitted participant (or oneself, for a moderator) a presenter; several may hold it."""
    TAKE_FLOOR = "take_floor"
    """Take the floor back; in presenter mode their microphone goes off."""
    # removal
    EXCLUDE = "exclude"
    """Out of this meeting; later meetings of the room stay open to them."""
    REMOVE_FOR_PERIOD = "remove_for_period"
    """Out of the room for a period (the room's default, 12 hours, unless `seconds` is given)."""
    BAN = "ban"
    """Out of the room until unbanned."""
    UNBAN = "unban"
    """Lift a ban; names a person key, not a participant."""
    # waiting room
    ADMIT = "admit"
    """Let a waiting person in; their sources start off."""
    DENY = "deny"
    """Turn a waiting person away (disconnect; they may knock again unless removed)."""
    SEND_BACK = "send_back"
    """Back to the waiting room, as a participant, sources off, floor dropped."""
    VISIT = "visit"
    """Two-way microphone and camera between this moderator and one waiting person only."""
    END_VISIT = "end_visit"
    """End one's own visit; the moderator's microphone and camera go off."""


SELF_ONLY = frozenset({Action.TURN_ON_SOURCE, Action.LEAVE})
"""Actions whose target is always the actor."""

ROOM_ACTIONS = frozenset(
    {
        Action.MUTE_ALL_AUDIO,
        Action.MUTE_ALL_VIDEO,
        Action.MUTE_ALL_BOTH,
        Action.START_PRESENTER_MODE,
        Action.STOP_PRESENTER_MODE,
        Action.DISABLE_CHAT_ROOM,
        Action.ENABLE_CHAT_ROOM,
        Action.END_MEETING,
        Action.UNBAN,
        Action.END_VISIT,
    }
)
"""Actions without a target participant."""

FLOOR_ACTIONS = frozenset({Action.GIVE_FLOOR, Action.TAKE_FLOOR})
"""Moderators act on lower roles or on themselves."""

WAITING_ALLOWED = frozenset({Action.TURN_ON_SOURCE, Action.TURN_OFF_SOURCE, Action.LEAVE})
"""All that a person in the waiting room may do (sources limited to microphone and camera)."""

TARGET_MUST_WAIT = frozenset({Action.ADMIT, Action.DENY, Action.VISIT})
TARGET_MUST_BE_ADMITTED = frozenset(
    {
        Action.APPOINT_MODERATOR,
        Action.REVOKE_MODERATOR,
        Action.HAND_OVER,
        Action.GIVE_FLOOR,
        Action.TAKE_FLOOR,
        Action.SEND_BACK,
    }
)

MUTE_SCOPE = {
    Action.MUTE_ALL_AUDIO: MuteScope.AUDIO,
    Action.MUTE_ALL_VIDEO: MuteScope.VIDEO,
    Action.MUTE_ALL_BOTH: MuteScope.BOTH,
}

CHAT_ALIASES = {
    Action.ENABLE_CHAT_PARTICIPANT: Action.GRANT_PERMISSION,
    Action.DISABLE_CHAT_PARTICIPANT: Action.REVOKE_PERMISSION,
}


@dataclass(frozen=True)
class Command:
    """One request to `decide`."""

    action: Action
    """What is asked."""
    target: str | None = None
    """The participant acted on; defaults to the actor for self-only actions and TURN_OFF_SOURCE."""
    source: Source | None = None
    """For TURN_ON_SOURCE and TURN_OFF_SOURCE."""
    capability: Capability | None = None
    """For GRANT_PERMISSION and REVOKE_PERMISSION."""
    person: str | None = None
    """For UNBAN: the person key to unban."""
    seconds: float | None = None
    """For REMOVE_FOR_PERIOD: overrides the room's removal period."""


# --- effects ---------------------------------------------------------------------------------


class Reason(StrEnum):
    """Why a participant is disconnected or a meeting ends."""

    LEFT = "left"
    HANDED_OVER = "handed_over"
    DENIED = "denied"
    EXCLUDED = "excluded"
    REMOVED = "removed"
    BANNED = "banned"
    MEETING_ENDED = "meeting_ended"
    EMPTY = "empty"
    """No admitted participant remains."""
    REVOKED = "revoked"
    """A guest's invitation was revoked (the service disconnects them; no policy decides it)."""


@dataclass(frozen=True)
class RoleChanged:
    """Tell everyone a participant's role changed."""

    participant: str
    """Whose role."""
    role: Role
    """The new role."""


@dataclass(frozen=True)
class PermissionChanged:
    """Tell a participant a capability was granted or revoked."""

    participant: str
    """Whose capability."""
    capability: Capability
    """Which one."""
    held: bool
    """True when granted, False when revoked."""


@dataclass(frozen=True)
class SourceChanged:
    """Tell a participant (and the meeting) that one of their sources went on or off."""

    participant: str
    """Whose source."""
    source: Source
    """Which one."""
    on: bool
    """The new state."""


@dataclass(frozen=True)
class FloorChanged:
    """Tell everyone a participant was given or lost the floor."""

    participant: str
    """Who."""
    floor: bool
    """True when they now hold the floor."""


@dataclass(frozen=True)
class WaitingChanged:
    """A participant was admitted from, or sent back to, the waiting room."""

    participant: str
    """Who."""
    waiting: bool
    """True when they are now waiting."""


@dataclass(frozen=True)
class VisitChanged:
    """A moderator's visit to a waiting person started or ended."""

    moderator: str
    """The visiting moderator."""
    visited: str
    """The waiting participant."""
    active: bool
    """True when the visit started."""


@dataclass(frozen=True)
class RoomChanged:
    """Tell everyone that a room-wide switch changed."""

    presenter_mode: bool
    """Only floor holders may unmute."""
    chat_enabled: bool
    """Room chat on (participants may send)."""


@dataclass(frozen=True)
class RevokeTokens:
    """Revoke, at once, every token and invitation link that would let this person in."""

    person: str
    """The person key."""
    reason: Reason
    """EXCLUDED (this meeting), REMOVED (until `until`) or BANNED (until unbanned)."""
    until: float | None
    """End of a removal for a period; None otherwise."""


@dataclass(frozen=True)
class Disconnect:
    """Close a participant's connection (transport, signaling)."""

    participant: str
    """Who."""
    reason: Reason
    """Why, as told to their client."""


@dataclass(frozen=True)
class SuccessorChosen:
    """Policy chose a successor because a role fell vacant (see `fill_vacancies`)."""

    participant: str
    """Who was promoted."""
    role: Role
    """ORGANIZER, or MODERATOR where no registered user remains."""


@dataclass(frozen=True)
class MeetingEnded:
    """The meeting is over for everyone."""

    reason: Reason
    """MEETING_ENDED (by the organizer) or EMPTY."""


Notice = RoleChanged | PermissionChanged | SourceChanged | FloorChanged | WaitingChanged | VisitChanged | RoomChanged
Effect = GateChange | Notice | RevokeTokens | Disconnect | SuccessorChosen | MeetingEnded


@dataclass(frozen=True)
class Allowed:
    """An allowed request: the state to commit and what to do, in order."""

    state: MeetingState
    """The meeting after the request."""
    effects: tuple[Effect, ...]
    """Gate closes first, then tokens, notices, disconnections, then gate opens."""


Decision = Allowed | Refused


# --- who may act on whom ---------------------------------------------------------------------


def may_act(
    actor: Role,
    target: Role | None,
    action: Action,
    *,
    self_target: bool = False,
    source: Source | None = None,
) -> Refused | None:
    """The role rule alone: why `actor` may not do `action` to `target`, or None.

    `target` is None for room actions; `self_target` says the target is the actor (then `target`
    is the actor's role). `source` matters only for TURN_OFF_SOURCE (muting is the exception to
    rank). State-dependent conditions (waiting room, capabilities, floor…) are checked by `decide`.
    """
    action = CHAT_ALIASES.get(action, action)
    if action in SELF_ONLY:
        return None if self_target else _refuse(Code.NOT_SELF, f"only the participant may {action}")
    if action is Action.TURN_OFF_SOURCE:
        if self_target:
            return None
        if not actor.moderates:
            return _refuse(Code.ROLE_TOO_LOW, "only moderators turn off someone else's source")
        if source in MUTABLE_BY_MODERATORS or (target is not None and outranks(actor, target)):
            return None
        return _refuse(Code.TARGET_NOT_LOWER, f"a {actor} cannot turn off a {target}'s {source}")
    if not actor.moderates:
        return _refuse(Code.ROLE_TOO_LOW, f"a {actor} cannot {action}")
    if action in ROOM_ACTIONS:
        return None
    assert target is not None
    if action is Action.HAND_OVER:
        if actor is not Role.ORGANIZER:
            return _refuse(Code.ROLE_TOO_LOW, "only the organizer hands the meeting over")
        if self_target:
            return _refuse(Code.SELF_NOT_ALLOWED, "the organizer must name someone else")
        if target is not Role.MODERATOR:
            return _refuse(Code.NOT_A_MODERATOR, "the meeting can be handed over only to a moderator")
        return None
    if action in FLOOR_ACTIONS and self_target:
        return None
    if not outranks(actor, target):
        return _refuse(Code.TARGET_NOT_LOWER, f"a {actor} cannot {action} a {target}")
    if action is Action.REVOKE_MODERATOR and target is not Role.MODERATOR:
        return _refuse(Code.NOT_A_MODERATOR, f"a {target} is not a moderator")
    return None


# --- the decision ------------------------------------------------------------------------------


def decide(state: MeetingState, actor_id: str, command: Command, now: float) -> Decision:
    """Decide `command` from participant `actor_id` at time `now`.

    Checks, in this order, each failure giving its stable code: the meeting runs (meeting_ended);
    the actor is present (unknown_participant); the arguments the action needs are given
    (missing_argument, invalid_argument); the target is present (unknown_participant); a waiting
    actor only handles their own microphone and camera (actor_waiting); the role rule of `may_act`;
    then the state-dependent conditions of the action itself.
    """
    if state.ended:
        return _refuse(Code.MEETING_ENDED, "the meeting has ended")
    actor = state.get(actor_id)
    if actor is None:
        return _refuse(Code.UNKNOWN_PARTICIPANT, f"{actor_id} is not in the meeting")
    action = command.action
    missing = _missing_argument(command)
    if missing is not None:
        return missing
    target: Participant | None = None
    if action not in ROOM_ACTIONS:
        defaults_to_self = action in SELF_ONLY or action is Action.TURN_OFF_SOURCE
        if command.target is None and not defaults_to_self:
            return _refuse(Code.MISSING_ARGUMENT, f"{action} needs a target")
        target_id = command.target if command.target is not None else actor_id
        target = state.get(target_id)
        if target is None:
            return _refuse(Code.UNKNOWN_PARTICIPANT, f"{target_id} is not in the meeting")
    if actor.waiting:
        if action not in WAITING_ALLOWED or (action is not Action.LEAVE and command.source not in VISIT_SOURCES):
            return _refuse(Code.ACTOR_WAITING, "in the waiting room one only turns microphone or camera on or off")
    refused = may_act(
        actor.role,
        target.role if target else None,
        action,
        self_target=target is not None and target.id == actor.id,
        source=command.source,
    )
    if refused is not None:
        return refused
    if target is not None:
        if action in TARGET_MUST_WAIT and not target.waiting:
            return _refuse(Code.TARGET_NOT_WAITING, f"{target.id} is not in the waiting room")
        if action in TARGET_MUST_BE_ADMITTED and target.waiting:
            return _refuse(Code.TARGET_WAITING, f"{target.id} is in the waiting room")
    new, extra = _HANDLERS[CHAT_ALIASES.get(action, action)](state, actor, target, command, now)
    if isinstance(new, Refused):
        return new
    return _outcome(state, new, extra)


def _missing_argument(command: Command) -> Refused | None:
    action = command.action
    if action in (Action.TURN_ON_SOURCE, Action.TURN_OFF_SOURCE) and command.source is None:
        return _refuse(Code.MISSING_ARGUMENT, f"{action} needs a source")
    if action in (Action.GRANT_PERMISSION, Action.REVOKE_PERMISSION) and command.capability is None:
        return _refuse(Code.MISSING_ARGUMENT, f"{action} needs a capability")
    if action is Action.UNBAN and not command.person:
        return _refuse(Code.MISSING_ARGUMENT, "unban needs a person")
    if action is Action.REMOVE_FOR_PERIOD and command.seconds is not None and not command.seconds > 0:
        return _refuse(Code.INVALID_ARGUMENT, "a removal period must be positive")
    return None


# --- handlers: (state, actor, target, command, now) -> (new state | Refused, extra effects) ---

Extra = list[RevokeTokens | Disconnect | SuccessorChosen | MeetingEnded]
Result = tuple[MeetingState | Refused, Extra]


def _turn_on(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    source = command.source
    assert source is not None
    if not actor.holds(REQUIRED_CAPABILITY[source]):
        return _refuse(Code.PERMISSION_MISSING, f"{actor.id} does not hold {REQUIRED_CAPABILITY[source]}"), []
    if floor_required(state, actor, source) and not actor.floor:
        return _refuse(Code.FLOOR_REQUIRED, "in presenter mode only holders of the floor may unmute"), []
    return state.put(replace(actor, sources_on=actor.sources_on | {source})), []


def _turn_off(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None and command.source is not None
    return state.put(replace(target, sources_on=target.sources_on - {command.source})), []


def _leave(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    return _settle(_depart(state, actor.id), [Disconnect(actor.id, Reason.LEFT)])


def _appoint(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    if target.role is not Role.PARTICIPANT:
        return state, []
    return state.put(_promote(target, Role.MODERATOR)), []


def _revoke_moderator(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    return _end_visit_of(state.put(replace(target, role=Role.PARTICIPANT)), target.id), []


def _hand_over(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    if not target.registered:
        return _refuse(Code.GUEST_CANNOT_ORGANIZE, f"{target.id} is a guest; guests are never organizers"), []
    state = _depart(state, actor.id)
    successor = state.get(target.id)
    assert successor is not None
    return state.put(_promote(successor, Role.ORGANIZER)), [Disconnect(actor.id, Reason.HANDED_OVER)]


def _grant(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    capability = _capability(command)
    return state.put(replace(target, capabilities=target.capabilities | {capability})), []


def _revoke(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    capability = _capability(command)
    revoked = replace(
        target,
        capabilities=target.capabilities - {capability},
        sources_on=target.sources_on - sources_of(capability),
    )
    return state.put(revoked), []


def _mute_all(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    sources = MUTE_SCOPE[command.action].sources
    for p in state.participants:
        if p.id != actor.id:
            state = state.put(replace(p, sources_on=p.sources_on - sources))
    return state, []


def _presenter_mode(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    on = command.action is Action.START_PRESENTER_MODE
    state = replace(state, presenter_mode=on)
    if on:
        for p in state.participants:
            if not p.floor:
                state = state.put(replace(p, sources_on=p.sources_on - {Source.MICROPHONE}))
    return state, []


def _chat_room(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    return replace(state, chat_enabled=command.action is Action.ENABLE_CHAT_ROOM), []


def _end_meeting(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    organizer = state.organizer()
    if organizer is not None and organizer.id != actor.id:
        return _refuse(Code.ROLE_TOO_LOW, "only the organizer ends the meeting for everyone"), []
    return _end(state, Reason.MEETING_ENDED)


def _floor(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    give = command.action is Action.GIVE_FLOOR
    changed = replace(target, floor=give)
    if not give and state.presenter_mode:
        changed = replace(changed, sources_on=changed.sources_on - {Source.MICROPHONE})
    return state.put(changed), []


def _remove(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """EXCLUDE, REMOVE_FOR_PERIOD and BAN act on the person: every connection of theirs goes."""
    assert target is not None
    person = target.person
    if person == actor.person:
        return _refuse(Code.SELF_NOT_ALLOWED, "one cannot remove oneself; leave instead"), []
    for p in state.of_person(person):
        if not outranks(actor.role, p.role):
            return _refuse(Code.TARGET_NOT_LOWER, f"{person} is also present as {p.id}, a {p.role}"), []
    action = command.action
    until: float | None = None
    if action is Action.EXCLUDE:
        reason = Reason.EXCLUDED
        state = replace(state, excluded=state.excluded | {person})
    elif action is Action.REMOVE_FOR_PERIOD:
        reason = Reason.REMOVED
        until = now + (command.seconds if command.seconds is not None else state.features.removal_seconds)
        state = replace(state, removals=state.removals | {Removal(person, until)})
    else:
        reason = Reason.BANNED
        state = replace(state, bans=state.bans | {person})
    extra: Extra = [RevokeTokens(person, reason, until)]
    for p in state.of_person(person):
        state = _depart(state, p.id)
        extra.append(Disconnect(p.id, reason))
    return _settle(state, extra)


def _unban(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert command.person is not None
    return replace(state, bans=state.bans - {command.person}), []


def _admit(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """Admission ends any visit to them and turns their sources off: nothing goes live unasked."""
    assert target is not None
    state = _end_visit_to(state, target.id).put(replace(target, waiting=False, sources_on=frozenset()))
    return _settle(state, [])


def _deny(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    return _depart(state, target.id), [Disconnect(target.id, Reason.DENIED)]


def _send_back(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """Back to the waiting room as a plain participant: role, floor, sources and visit are dropped."""
    assert target is not None
    if not state.features.waiting_room:
        return _refuse(Code.NO_WAITING_ROOM, "the room has no waiting room"), []
    sent = replace(target, waiting=True, role=Role.PARTICIPANT, floor=False, sources_on=frozenset(), visiting=None)
    return _settle(state.put(sent), [])


def _visit(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """A moderator visits one waiting person at a time; visiting another ends the previous visit."""
    assert target is not None
    visitor = state.visitor_of(target.id)
    if visitor is not None and visitor.id != actor.id:
        return _refuse(Code.ALREADY_VISITED, f"{visitor.id} is visiting {target.id}"), []
    return state.put(replace(actor, visiting=target.id)), []


def _end_visit(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    return _end_visit_of(state, actor.id), []


_HANDLERS = {
    Action.TURN_ON_SOURCE: _turn_on,
    Action.TURN_OFF_SOURCE: _turn_off,
    Action.LEAVE: _leave,
    Action.APPOINT_MODERATOR: _appoint,
    Action.REVOKE_MODERATOR: _revoke_moderator,
    Action.HAND_OVER: _hand_over,
    Action.GRANT_PERMISSION: _grant,
    Action.REVOKE_PERMISSION: _revoke,
    Action.MUTE_ALL_AUDIO: _mute_all,
    Action.MUTE_ALL_VIDEO: _mute_all,
    Action.MUTE_ALL_BOTH: _mute_all,
    Action.START_PRESENTER_MODE: _presenter_mode,
    Action.STOP_PRESENTER_MODE: _presenter_mode,
    Action.DISABLE_CHAT_ROOM: _chat_room,
    Action.ENABLE_CHAT_ROOM: _chat_room,
    Action.END_MEETING: _end_meeting,
    Action.GIVE_FLOOR: _floor,
    Action.TAKE_FLOOR: _floor,
    Action.EXCLUDE: _remove,
    Action.REMOVE_FOR_PERIOD: _remove,
    Action.BAN: _remove,
    Action.UNBAN: _unban,
    Action.ADMIT: _admit,
    Action.DENY: _deny,
    Action.SEND_BACK: _send_back,
    Action.VISIT: _visit,
    Action.END_VISIT: _end_visit,
}
assert set(_HANDLERS) | set(CHAT_ALIASES) == set(Action)


# --- lifecycle: opening, joining ---------------------------------------------------------------


def open_meeting(
    features: RoomFeatures,
    organizer_id: str,
    person: str,
    *,
    registered: bool,
    now: float,
    removals: Iterable[Removal] = (),
    bans: Iterable[str] = (),
) -> MeetingState | Refused:
    """A new meeting opened by a registered user, who is its organizer (admitted, all capabilities).

    `removals` and `bans` are the room's, carried into the meeting so that joins are checked.
    """
    if not registered:
        return _refuse(Code.GUEST_CANNOT_ORGANIZE, "only registered users open meetings")
    state = MeetingState(features=features, removals=frozenset(removals), bans=frozenset(bans))
    refused = entry_refusal(person, now, removals=state.removals, bans=state.bans)
    if refused is not None:
        return refused
    organizer = Participant(
        organizer_id, person, registered=True, role=Role.ORGANIZER, joined_at=now, capabilities=ALL_CAPABILITIES
    )
    return state.put(organizer)


def join(
    state: MeetingState,
    participant_id: str,
    person: str,
    *,
    registered: bool,
    now: float,
    capabilities: frozenset[Capability] | None = None,
) -> Decision:
    """A person arrives (after the service checked their room access or invitation).

    Refused when the meeting has ended, the id is taken, or the person is banned, removed or
    excluded. Arrivals wait when the room has a waiting room. `capabilities` defaults to the room's
    participant defaults; for a guest, pass the invitation's rights.
    """
    if state.ended:
        return _refuse(Code.MEETING_ENDED, "the meeting has ended")
    if state.get(participant_id) is not None:
        return _refuse(Code.ALREADY_IN_MEETING, f"{participant_id} is already in the meeting")
    refused = entry_refusal(person, now, removals=state.removals, bans=state.bans, excluded=state.excluded)
    if refused is not None:
        return refused
    if capabilities is None:
        capabilities = default_capabilities(Role.PARTICIPANT, screen_share_allowed=state.features.screen_share)
    arrival = Participant(
        participant_id,
        person,
        registered=registered,
        joined_at=now,
        waiting=state.features.waiting_room,
        capabilities=frozenset(capabilities),
    )
    new, extra = _settle(state.put(arrival), [])
    assert isinstance(new, MeetingState)
    return _outcome(state, new, extra)


# --- queries that change nothing ------------------------------------------------------------


def check_produce(state: MeetingState, participant_id: str, source: Source) -> Ok | Refused:
    """Whether the participant may create a producer for `source` at all: without the capability
    they cannot; in the waiting room only microphone and camera (for a visit)."""
    if state.ended:
        return _refuse(Code.MEETING_ENDED, "the meeting has ended")
    p = state.get(participant_id)
    if p is None:
        return _refuse(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not in the meeting")
    if p.waiting and source not in VISIT_SOURCES:
        return _refuse(Code.ACTOR_WAITING, "in the waiting room only microphone and camera may be produced")
    if not p.holds(REQUIRED_CAPABILITY[source]):
        return _refuse(Code.PERMISSION_MISSING, f"{participant_id} does not hold {REQUIRED_CAPABILITY[source]}")
    return Ok()


def check_chat(state: MeetingState, sender_id: str, recipient_id: str | None = None) -> Ok | Refused:
    """Whether `sender_id` may send a chat message to everyone (recipient None) or to one participant.

    The sender must be admitted and hold the chat capability; while room chat is disabled only
    moderators may send. The recipient of a one-to-one message must be admitted.
    """
    if state.ended:
        return _refuse(Code.MEETING_ENDED, "the meeting has ended")
    sender = state.get(sender_id)
    if sender is None:
        return _refuse(Code.UNKNOWN_PARTICIPANT, f"{sender_id} is not in the meeting")
    if sender.waiting:
        return _refuse(Code.ACTOR_WAITING, "people in the waiting room cannot chat")
    if recipient_id is not None:
        recipient = state.get(recipient_id)
        if recipient is None:
            return _refuse(Code.UNKNOWN_PARTICIPANT, f"{recipient_id} is not in the meeting")
        if recipient.waiting:
            return _refuse(Code.TARGET_WAITING, f"{recipient_id} is in the waiting room")
    if not sender.holds(Capability.CHAT):
        return _refuse(Code.PERMISSION_MISSING, f"chat is disabled for {sender_id}")
    if not state.chat_enabled and not sender.role.moderates:
        return _refuse(Code.CHAT_DISABLED, "chat is disabled for the room")
    return Ok()


# --- succession -----------------------------------------------------------------------------


def choose_successor(state: MeetingState) -> tuple[str, Role] | None:
    """Who fills a vacant role, deterministically, or None when no role is vacant.

    - No organizer but a registered user is admitted: the organizer seat goes to the earliest-joined
      registered moderator, else the earliest-joined registered participant (ties by id). Only
      registered users may organize, so registered users come first.
    - No registered user admitted and no moderator left: the earliest-joined admitted guest becomes
      moderator, so that someone can still admit, mute and end (ties by id).
    Waiting people are never chosen.
    """
    admitted = state.admitted()
    if state.organizer() is None:
        registered = [p for p in admitted if p.registered]
        if registered:
            best = min(registered, key=lambda p: (not p.role.moderates, p.joined_at, p.id))
            return best.id, Role.ORGANIZER
    if admitted and not state.moderators():
        best = min(admitted, key=lambda p: (p.joined_at, p.id))
        return best.id, Role.MODERATOR
    return None


def fill_vacancies(state: MeetingState) -> tuple[MeetingState, list[SuccessorChosen]]:
    """Apply `choose_successor` until no role is vacant (at most twice)."""
    chosen = []
    while (choice := choose_successor(state)) is not None:
        participant_id, role = choice
        p = state.get(participant_id)
        assert p is not None
        state = state.put(_promote(p, role))
        chosen.append(SuccessorChosen(participant_id, role))
    return state, chosen


# --- helpers ----------------------------------------------------------------------------------


def _capability(command: Command) -> Capability:
    """The capability granted or revoked: chat for the chat aliases, else the command's."""
    if command.action in CHAT_ALIASES:
        return Capability.CHAT
    assert command.capability is not None
    return command.capability


def _refuse(code: Code, message: str) -> Refused:
    return Refused(code, message)


def _promote(p: Participant, role: Role) -> Participant:
    """A promoted person gets every capability: a moderator is never left unable to speak."""
    return replace(p, role=role, capabilities=ALL_CAPABILITIES)


def _end_visit_of(state: MeetingState, moderator_id: str) -> MeetingState:
    """End the moderator's visit, turning their microphone and camera off: what they said to the
    waiting person never carries on into the meeting unasked."""
    p = state.get(moderator_id)
    if p is None or p.visiting is None:
        return state
    return state.put(replace(p, visiting=None, sources_on=p.sources_on - VISIT_SOURCES))


def _depart(state: MeetingState, participant_id: str) -> MeetingState:
    """Take a participant out of the meeting, ending any visit to them first."""
    return _end_visit_to(state, participant_id).drop(participant_id)


def _end_visit_to(state: MeetingState, waiting_id: str) -> MeetingState:
    visitor = state.visitor_of(waiting_id)
    return state if visitor is None else _end_visit_of(state, visitor.id)


def _end(state: MeetingState, reason: Reason) -> Result:
    extra: Extra = [Disconnect(p.id, reason) for p in state.participants]
    extra.append(MeetingEnded(reason))
    return replace(state, participants=(), ended=True), extra


def _settle(state: MeetingState, extra: Extra) -> Result:
    """After someone leaves, is admitted or is sent back: fill vacant roles, or end the meeting when
    no admitted participant remains (those still waiting are disconnected)."""
    if not state.admitted():
        ended, more = _end(state, Reason.EMPTY)
        return ended, extra + more
    state, chosen = fill_vacancies(state)
    return state, extra + list(chosen)


def _notices(old: MeetingState, new: MeetingState) -> list[Notice]:
    """Client notices implied by the difference between two states."""
    notices: list[Notice] = []
    if (old.presenter_mode, old.chat_enabled) != (new.presenter_mode, new.chat_enabled):
        notices.append(RoomChanged(new.presenter_mode, new.chat_enabled))
    for after in new.participants:
        before = old.get(after.id)
        if before is None:
            continue
        if before.waiting != after.waiting:
            notices.append(WaitingChanged(after.id, after.waiting))
        if before.role != after.role:
            notices.append(RoleChanged(after.id, after.role))
        for capability in sorted(before.capabilities ^ after.capabilities):
            notices.append(PermissionChanged(after.id, capability, capability in after.capabilities))
        for source in sorted(before.sources_on ^ after.sources_on):
            notices.append(SourceChanged(after.id, source, source in after.sources_on))
        if before.floor != after.floor:
            notices.append(FloorChanged(after.id, after.floor))
    for before in old.participants:
        after = new.get(before.id)
        visiting = after.visiting if after is not None else None
        if before.visiting != visiting:
            if before.visiting is not None:
                notices.append(VisitChanged(before.id, before.visiting, False))
            if visiting is not None:
                notices.append(VisitChanged(before.id, visiting, True))
    return notices


def _outcome(old: MeetingState, new: MeetingState, extra: Extra) -> Allowed:
    changes = plan_changes(media_plan(old), media_plan(new))
    closes = [c for c in changes if not c.open]
    opens = [c for c in changes if c.open]
    tokens = [e for e in extra if isinstance(e, RevokeTokens)]
    rest = [e for e in extra if not isinstance(e, RevokeTokens)]
    effects: list[Effect] = [*closes, *tokens, *_notices(old, new), *rest, *opens]
    return Allowed(new, tuple(effects))
