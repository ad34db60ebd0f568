"""The vocabulary of moderation: what may be asked (`Action`, `Command`) and what follows (effects).

A decision is `Allowed(state, effects)` or `Refused(code, message)`. Gate effects are not written by
hand: `outcome` derives them, and the client notices, from the difference between the old and the
new state, so they always agree with the media matrix.
"""

from dataclasses import dataclass
from enum import StrEnum

from control.domain.meeting_state import (
    GateChange,
    MeetingState,
    Refused,
    media_plan,
    plan_changes,
)
from control.domain.roles import Capability, MuteScope, Role, Source


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
    """End the meeting for everyone, the organizer included: any moderator."""
    # the floor
    GIVE_FLOOR = "give_floor"
    """Make an admitted participant (or oneself, for a moderator) a presenter; several may hold it."""
    TAKE_FLOOR = "take_floor"
    """Take the floor back; in presenter mode their microphone goes off."""
    # presence
    HIDE = "hide"
    """Unlist a participant (an interpreter, a recorder): absent from the participant lists and counts
    of everyone but moderators and themselves (`meeting_state.listed`); their media flows as before."""
    UNHIDE = "unhide"
    """List a hidden participant again."""
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
    # recording
    START_RECORDING = "start_recording"
    """Record the meeting (every track, and the audio mixed): the `record` right, which the
    organizer and moderators hold and participants never do."""
    STOP_RECORDING = "stop_recording"
    """Stop the running recording; its files are finalised and listed."""


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
        Action.START_RECORDING,
        Action.STOP_RECORDING,
    }
)
"""Actions without a target participant."""

RECORD_ACTIONS = frozenset({Action.START_RECORDING, Action.STOP_RECORDING})
"""Actions of the `record` right: role-derived, held by the organizer and moderators
(`may_act`: participants are refused with role_too_low)."""

FLOOR_ACTIONS = frozenset({Action.GIVE_FLOOR, Action.TAKE_FLOOR})
"""Moderators act on lower roles or on themselves."""

HIDE_ACTIONS = frozenset({Action.HIDE, Action.UNHIDE})
"""Moderators act on lower roles or on themselves (a recorder with moderator rights hides itself)."""

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
    """Nobody remains, admitted or waiting."""
    REVOKED = "revoked"
    """A guest's invitation was revoked (the service disconnects them; no policy decides it)."""
    COMPANY_SUSPENDED = "company_suspended"
    """The instance operator suspended or deleted the company (the service ends its meetings)."""
    ROOM_DELETED = "room_deleted"
    """The meeting's room was deleted (the service ends its meeting first)."""


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
class HiddenChanged:
    """A participant was hidden (unlisted) or listed again."""

    participant: str
    """Who."""
    hidden: bool
    """True when they are now hidden."""


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
class RecordingChanged:
    """Tell everyone that recording started or stopped (the indicator)."""

    recording: bool


@dataclass(frozen=True)
class RevokeTokens:
    """Keep this person out of the room: the removal goes on the room's list, which every entry path
    checks (login token, invitation link, reconnect); a guest's tokens and invitation, which are for
    this room only, are revoked. A registered user's login sessions are not: the removal is scoped
    to the room, and they keep working elsewhere in the company."""

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


Notice = (
    RoleChanged
    | PermissionChanged
    | SourceChanged
    | FloorChanged
    | WaitingChanged
    | VisitChanged
    | RoomChanged
    | HiddenChanged
    | RecordingChanged
)
Effect = GateChange | Notice | RevokeTokens | Disconnect | SuccessorChosen | MeetingEnded


@dataclass(frozen=True)
class Allowed:
    """An allowed request: the state to commit and what to do, in order."""

    state: MeetingState
    """The meeting after the request."""
    effects: tuple[Effect, ...]
    """Gate closes first, then tokens, notices, disconnections, then gate opens."""


Decision = Allowed | Refused


# --- what handlers return: (new state | Refused, extra effects) ---------------------------------

Extra = list[RevokeTokens | Disconnect | SuccessorChosen | MeetingEnded]
Result = tuple[MeetingState | Refused, Extra]


def _notices(old: MeetingState, new: MeetingState) -> list[Notice]:
    """Client notices implied by the difference between two states."""
    notices: list[Notice] = []
    if (old.presenter_mode, old.chat_enabled) != (new.presenter_mode, new.chat_enabled):
        notices.append(RoomChanged(new.presenter_mode, new.chat_enabled))
    if old.recording != new.recording:
        notices.append(RecordingChanged(new.recording))
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
        if before.hidden != after.hidden:
            notices.append(HiddenChanged(after.id, after.hidden))
    for before in old.participants:
        remaining = new.get(before.id)
        visiting = remaining.visiting if remaining is not None else None
        if before.visiting != visiting:
            if before.visiting is not None:
                notices.append(VisitChanged(before.id, before.visiting, False))
            if visiting is not None:
                notices.append(VisitChanged(before.id, visiting, True))
    return notices


def outcome(old: MeetingState, new: MeetingState, extra: Extra) -> Allowed:
    """The decision from `old` to `new`: gate changes and notices derived, effects in `Allowed`'s order."""
    changes = plan_changes(media_plan(old), media_plan(new))
    closes = [c for c in changes if not c.open]
    opens = [c for c in changes if c.open]
    tokens = [e for e in extra if isinstance(e, RevokeTokens)]
    rest = [e for e in extra if not isinstance(e, RevokeTokens)]
    effects: list[Effect] = [*closes, *tokens, *_notices(old, new), *rest, *opens]
    return Allowed(new, tuple(effects))
