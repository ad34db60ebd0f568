"""`decide`: a command from a participant, against the meeting state, allowed or refused.

Who may act on whom (`may_act`, over roles only):

- participants manage nobody; they turn their own sources on and off, and leave;
- moderators (the organizer included) act on strictly lower roles, with one exception: muting
  (turning a microphone or camera off, "mute all") applies to everyone, the organizer included;
- moderators never turn someone else's source on; only the person does, holding the capability
  (and, in presenter mode, the floor for the microphone);
- only the organizer hands over, and only to a moderator whose rights in the room let them hold the
  seat (moderator or organizer rights: see `authority`);
- any moderator may end the meeting for everyone, the organizer included (VideoMost);
- holders of organizer rights for the room are never removed or banned from it.

Then each action's handler applies the state-dependent rules; `check_produce` and `check_chat`
answer the questions that change nothing.
"""

from dataclasses import replace

from control.domain.meeting_state import (
    Code,
    MeetingState,
    Ok,
    Participant,
    Refused,
    Removal,
    floor_required,
)
from control.domain.moderation.authority import may_take_seat
from control.domain.moderation.commands import (
    CHAT_ALIASES,
    FLOOR_ACTIONS,
    HIDE_ACTIONS,
    MUTE_SCOPE,
    ROOM_ACTIONS,
    SELF_ONLY,
    TARGET_MUST_BE_ADMITTED,
    TARGET_MUST_WAIT,
    WAITING_ALLOWED,
    Action,
    Command,
    Decision,
    Disconnect,
    Extra,
    Reason,
    Result,
    RevokeTokens,
    outcome,
)
from control.domain.moderation.entry import admit, deny, end_visit, send_back, visit
from control.domain.moderation.succession import (
    depart,
    end_for_everyone,
    end_visit_of,
    promote,
    settle,
)
from control.domain.roles import (
    MUTABLE_BY_MODERATORS,
    REQUIRED_CAPABILITY,
    VISIT_SOURCES,
    Capability,
    Role,
    Source,
    outranks,
    sources_of,
)


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
        return None if self_target else Refused(Code.NOT_SELF, f"only the participant may {action}")
    if action is Action.TURN_OFF_SOURCE:
        if self_target:
            return None
        if not actor.moderates:
            return Refused(Code.ROLE_TOO_LOW, "only moderators turn off someone else's source")
        if source in MUTABLE_BY_MODERATORS or (target is not None and outranks(actor, target)):
            return None
        return Refused(Code.TARGET_NOT_LOWER, f"a {actor} cannot turn off a {target}'s {source}")
    if not actor.moderates:
        return Refused(Code.ROLE_TOO_LOW, f"a {actor} cannot {action}")
    if action in ROOM_ACTIONS:
        return None
    assert target is not None
    if action is Action.HAND_OVER:
        if actor is not Role.ORGANIZER:
            return Refused(Code.ROLE_TOO_LOW, "only the organizer hands the meeting over")
        if self_target:
            return Refused(Code.SELF_NOT_ALLOWED, "the organizer must name someone else")
        if target is not Role.MODERATOR:
            return Refused(Code.NOT_A_MODERATOR, "the meeting can be handed over only to a moderator")
        return None
    if (action in FLOOR_ACTIONS or action in HIDE_ACTIONS) and self_target:
        return None
    if not outranks(actor, target):
        return Refused(Code.TARGET_NOT_LOWER, f"a {actor} cannot {action} a {target}")
    if action is Action.REVOKE_MODERATOR and target is not Role.MODERATOR:
        return Refused(Code.NOT_A_MODERATOR, f"a {target} is not a moderator")
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
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    actor = state.get(actor_id)
    if actor is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{actor_id} is not in the meeting")
    action = command.action
    missing = _missing_argument(command)
    if missing is not None:
        return missing
    target: Participant | None = None
    if action not in ROOM_ACTIONS:
        defaults_to_self = action in SELF_ONLY or action is Action.TURN_OFF_SOURCE
        if command.target is None and not defaults_to_self:
            return Refused(Code.MISSING_ARGUMENT, f"{action} needs a target")
        target_id = command.target if command.target is not None else actor_id
        target = state.get(target_id)
        if target is None:
            return Refused(Code.UNKNOWN_PARTICIPANT, f"{target_id} is not in the meeting")
    if actor.waiting:
        if action not in WAITING_ALLOWED or (action is not Action.LEAVE and command.source not in VISIT_SOURCES):
            return Refused(Code.ACTOR_WAITING, "in the waiting room one only turns microphone or camera on or off")
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
            return Refused(Code.TARGET_NOT_WAITING, f"{target.id} is not in the waiting room")
        if action in TARGET_MUST_BE_ADMITTED and target.waiting:
            return Refused(Code.TARGET_WAITING, f"{target.id} is in the waiting room")
    new, extra = _HANDLERS[CHAT_ALIASES.get(action, action)](state, actor, target, command, now)
    if isinstance(new, Refused):
        return new
    return outcome(state, new, extra)


def _missing_argument(command: Command) -> Refused | None:
    action = command.action
    if action in (Action.TURN_ON_SOURCE, Action.TURN_OFF_SOURCE) and command.source is None:
        return Refused(Code.MISSING_ARGUMENT, f"{action} needs a source")
    if action in (Action.GRANT_PERMISSION, Action.REVOKE_PERMISSION) and command.capability is None:
        return Refused(Code.MISSING_ARGUMENT, f"{action} needs a capability")
    if action is Action.UNBAN and not command.person:
        return Refused(Code.MISSING_ARGUMENT, "unban needs a person")
    if action is Action.REMOVE_FOR_PERIOD and command.seconds is not None and not command.seconds > 0:
        return Refused(Code.INVALID_ARGUMENT, "a removal period must be positive")
    return None


# --- handlers: (state, actor, target, command, now) -> (new state | Refused, extra effects) ---


def _turn_on(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    source = command.source
    assert source is not None
    if not actor.holds(REQUIRED_CAPABILITY[source]):
        return Refused(Code.PERMISSION_MISSING, f"{actor.id} does not hold {REQUIRED_CAPABILITY[source]}"), []
    if floor_required(state, actor, source) and not actor.floor:
        return Refused(Code.FLOOR_REQUIRED, "in presenter mode only holders of the floor may unmute"), []
    return state.put(replace(actor, sources_on=actor.sources_on | {source})), []


def _turn_off(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None and command.source is not None
    return state.put(replace(target, sources_on=target.sources_on - {command.source})), []


def _leave(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    return settle(depart(state, actor.id), [Disconnect(actor.id, Reason.LEFT)])


def _appoint(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    if target.role is not Role.PARTICIPANT:
        return state, []
    return state.put(promote(target, Role.MODERATOR)), []


def _revoke_moderator(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    return end_visit_of(state.put(replace(target, role=Role.PARTICIPANT)), target.id), []


def _hand_over(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    assert target is not None
    if not target.registered:
        return Refused(Code.GUEST_CANNOT_ORGANIZE, f"{target.id} is a guest; guests are never organizers"), []
    if not may_take_seat(target.rights):
        return Refused(
            Code.RIGHTS_MISSING, f"{target.id} holds no moderator or organizer rights for the room to organize it"
        ), []
    state = depart(state, actor.id)
    successor = state.get(target.id)
    assert successor is not None
    return state.put(promote(successor, Role.ORGANIZER)), [Disconnect(actor.id, Reason.HANDED_OVER)]


def _grant(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
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


def _recording(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    start = command.action is Action.START_RECORDING
    if start and state.recording:
        return Refused(Code.ALREADY_RECORDING, "the meeting is being recorded already"), []
    if not start and not state.recording:
        return Refused(Code.NOT_RECORDING, "the meeting is not being recorded"), []
    return replace(state, recording=start), []


def _end_meeting(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """Any moderator ends the meeting for everyone, the organizer included (`may_act` checked the role)."""
    return end_for_everyone(state, Reason.MEETING_ENDED)


def _floor(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    assert target is not None
    give = command.action is Action.GIVE_FLOOR
    changed = replace(target, floor=give)
    if not give and state.presenter_mode:
        changed = replace(changed, sources_on=changed.sources_on - {Source.MICROPHONE})
    return state.put(changed), []


def _hide(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    assert target is not None
    return state.put(replace(target, hidden=command.action is Action.HIDE)), []


def _remove(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """EXCLUDE, REMOVE_FOR_PERIOD and BAN act on the person: every connection of theirs goes."""
    assert target is not None
    person = target.person
    if person == actor.person:
        return Refused(Code.SELF_NOT_ALLOWED, "one cannot remove oneself; leave instead"), []
    for p in state.of_person(person):
        if not outranks(actor.role, p.role):
            return Refused(Code.TARGET_NOT_LOWER, f"{person} is also present as {p.id}, a {p.role}"), []
        if p.rights is Role.ORGANIZER:
            return Refused(
                Code.ROOM_RIGHTS_HOLDER,
                f"{person} holds organizer rights for the room; change their access right instead",
            ), []
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
        state = depart(state, p.id)
        extra.append(Disconnect(p.id, reason))
    return settle(state, extra)


def _unban(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    assert command.person is not None
    return replace(state, bans=state.bans - {command.person}), []


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
    Action.START_RECORDING: _recording,
    Action.STOP_RECORDING: _recording,
    Action.GIVE_FLOOR: _floor,
    Action.TAKE_FLOOR: _floor,
    Action.HIDE: _hide,
    Action.UNHIDE: _hide,
    Action.EXCLUDE: _remove,
    Action.REMOVE_FOR_PERIOD: _remove,
    Action.BAN: _remove,
    Action.UNBAN: _unban,
    Action.ADMIT: admit,
    Action.DENY: deny,
    Action.SEND_BACK: send_back,
    Action.VISIT: visit,
    Action.END_VISIT: end_visit,
}
assert set(_HANDLERS) | set(CHAT_ALIASES) == set(Action)


# --- checks that change nothing ------------------------------------------------------------


def check_produce(state: MeetingState, participant_id: str, source: Source) -> Ok | Refused:
    """Whether the participant may create a producer for `source` at all: without the capability
    they cannot; in the waiting room only microphone and camera (for a visit)."""
    if state.ended:
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    p = state.get(participant_id)
    if p is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not in the meeting")
    if p.waiting and source not in VISIT_SOURCES:
        return Refused(Code.ACTOR_WAITING, "in the waiting room only microphone and camera may be produced")
    if not p.holds(REQUIRED_CAPABILITY[source]):
        return Refused(Code.PERMISSION_MISSING, f"{participant_id} does not hold {REQUIRED_CAPABILITY[source]}")
    return Ok()


def check_chat(state: MeetingState, sender_id: str, recipient_id: str | None = None) -> Ok | Refused:
    """Whether `sender_id` may send a chat message to everyone (recipient None) or to one participant.

    The sender must be admitted and hold the chat capability; while room chat is disabled only
    moderators may send. The recipient of a one-to-one message must be admitted.
    """
    if state.ended:
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    sender = state.get(sender_id)
    if sender is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{sender_id} is not in the meeting")
    if sender.waiting:
        return Refused(Code.ACTOR_WAITING, "people in the waiting room cannot chat")
    if recipient_id is not None:
        recipient = state.get(recipient_id)
        if recipient is None:
            return Refused(Code.UNKNOWN_PARTICIPANT, f"{recipient_id} is not in the meeting")
        if recipient.waiting:
            return Refused(Code.TARGET_WAITING, f"{recipient_id} is in the waiting room")
    if not sender.holds(Capability.CHAT):
        return Refused(Code.PERMISSION_MISSING, f"chat is disabled for {sender_id}")
    if not state.chat_enabled and not sender.role.moderates:
        return Refused(Code.CHAT_DISABLED, "chat is disabled for the room")
    return Ok()


def check_files(state: MeetingState, sender_id: str, recipient_id: str | None = None) -> Ok | Refused:
    """Whether `sender_id` may share a file in chat, to everyone (recipient None) or to one participant.

    A shared file is a chat message with an attachment: the chat rule applies (`check_chat`), and the
    sender must also hold the files capability.
    """
    checked = check_chat(state, sender_id, recipient_id)
    if isinstance(checked, Refused):
        return checked
    sender = state.get(sender_id)
    assert sender is not None
    if not sender.holds(Capability.FILES):
        return Refused(Code.PERMISSION_MISSING, f"sharing files is disabled for {sender_id}")
    return Ok()


def _capability(command: Command) -> Capability:
    """The capability granted or revoked: chat for the chat aliases, else the command's."""
    if command.action in CHAT_ALIASES:
        return Capability.CHAT
    assert command.capability is not None
    return command.capability
