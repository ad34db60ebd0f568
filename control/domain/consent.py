"""Who may ask what of another participant's computer: requesting their settings and controlling
their shared screen. Both need the participant's consent, given in their client each time.

Pure rules over the meeting state and the pending requests; no I/O, no clock (`now` passed in).

- Only an admitted moderator asks, of another admitted participant (any role: a moderator may ask
  the organizer too; consent is what protects the person asked).
- A settings request is answered once, by the person asked; the answer (the report, or a refusal)
  goes to the asking moderator only. Without consent nothing is reported.
- Remote control is offered to the person whose screen is shared (their `screen` source on), who
  accepts or declines; one session per shared screen. Once accepted, only the controlling moderator
  sends input, in order, at most CONTROL_RATE events a second; the person or the moderator ends it at
  any moment, and it ends by itself when either leaves (or goes to the waiting room) or the screen
  stops being shared.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from control.domain.meeting_state import Code, MeetingState, Ok, Refused
from control.domain.roles import Capability, Source

CONTROL_RATE = 30
"""Remote-control input events per second of one session (pointer moves are coalesced to this)."""
MAX_PENDING = 64
"""Settings requests pending in one meeting; more are refused (`rate_limited`)."""


def check_ask(state: MeetingState, moderator_id: str, target_id: str) -> Ok | Refused:
    """Whether `moderator_id` may ask `target_id` for their settings or their screen's control."""
    if state.ended:
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    actor = state.get(moderator_id)
    if actor is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{moderator_id} is not in the meeting")
    if actor.waiting:
        return Refused(Code.ACTOR_WAITING, "people in the waiting room ask nothing of others")
    if not actor.role.moderates:
        return Refused(Code.ROLE_TOO_LOW, "only moderators ask for a participant's settings or screen")
    target = state.get(target_id)
    if target is None:
        return Refused(Code.UNKNOWN_PARTICIPANT, f"{target_id} is not in the meeting")
    if target.id == actor.id:
        return Refused(Code.SELF_NOT_ALLOWED, "ask someone else")
    if target.waiting:
        return Refused(Code.TARGET_WAITING, f"{target_id} is in the waiting room")
    return Ok()


# --- settings requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsRequest:
    """A moderator's pending request for a participant's settings (with a change proposed, or not)."""

    id: str
    moderator: str
    target: str
    proposes: bool = False
    """A change of capture settings is proposed: the participant applies it only if they consent."""


def check_settings_request(
    state: MeetingState, pending: Iterable[SettingsRequest], moderator_id: str, target_id: str
) -> Ok | Refused:
    """`check_ask`, and room among the pending requests (MAX_PENDING per meeting)."""
    allowed = check_ask(state, moderator_id, target_id)
    if isinstance(allowed, Refused):
        return allowed
    if sum(1 for _ in pending) >= MAX_PENDING:
        return Refused(Code.RATE_LIMITED, f"at most {MAX_PENDING} settings requests wait for an answer at once")
    return Ok()


def check_settings_answer(request: SettingsRequest | None, participant_id: str) -> Ok | Refused:
    """Only the person asked answers, once."""
    if request is None or request.target != participant_id:
        return Refused(Code.NO_SUCH_REQUEST, "no such settings request is waiting for your answer")
    return Ok()


def settings_request_lapses(state: MeetingState, request: SettingsRequest) -> bool:
    """A request lapses when the moderator or the person asked is no longer admitted (or no longer
    moderates): nobody is left to give the answer to, or to answer."""
    moderator, target = state.get(request.moderator), state.get(request.target)
    if moderator is None or target is None or moderator.waiting or target.waiting:
        return True
    return not moderator.role.moderates


# --- remote control ----------------------------------------------------------------------------------


class Phase(StrEnum):
    OFFERED = "offered"
    """Asked for; the person has not answered."""
    ACTIVE = "active"
    """Accepted: the moderator's input goes to the person's client."""


@dataclass(frozen=True)
class ControlSession:
    id: str
    controller: str
    """The moderator."""
    target: str
    """The person whose shared screen is controlled."""
    phase: Phase = Phase.OFFERED
    next_seq: int = 1
    """The sequence number the next relayed event gets."""


def sharing(state: MeetingState, participant_id: str) -> bool:
    """Whether the participant's screen is shared: its source on, and the right to share held."""
    p = state.get(participant_id)
    return p is not None and Source.SCREEN in p.sources_on and p.holds(Capability.SCREEN_SHARE)


def check_control_request(
    state: MeetingState, sessions: Iterable[ControlSession], moderator_id: str, target_id: str
) -> Ok | Refused:
    """`check_ask`, the person's screen shared, and no other session on it."""
    allowed = check_ask(state, moderator_id, target_id)
    if isinstance(allowed, Refused):
        return allowed
    if not sharing(state, target_id):
        return Refused(Code.NOT_SHARING, f"{target_id} is not sharing their screen")
    if any(s.target == target_id for s in sessions):
        return Refused(Code.ALREADY_CONTROLLED, f"the screen of {target_id} is already offered or controlled")
    return Ok()


def answer_control(session: ControlSession | None, participant_id: str, allow: bool) -> ControlSession | Refused | None:
    """The person's answer to an offered session: the active session (allowed), None (declined: it
    ends), or refused when there is no offered session for them."""
    if session is None or session.target != participant_id or session.phase is not Phase.OFFERED:
        return Refused(Code.NO_SUCH_REQUEST, "no remote-control request is waiting for your answer")
    return replace(session, phase=Phase.ACTIVE) if allow else None


def check_control_event(session: ControlSession | None, participant_id: str) -> Ok | Refused:
    """Only the controlling moderator of an active session sends input."""
    if session is None or session.controller != participant_id:
        return Refused(Code.NO_SUCH_REQUEST, "no remote-control session of yours")
    if session.phase is not Phase.ACTIVE:
        return Refused(Code.NO_SUCH_REQUEST, "the participant has not accepted remote control")
    return Ok()


def may_end(session: ControlSession | None, participant_id: str) -> Ok | Refused:
    """Either side ends a session, offered or active, at any moment."""
    if session is None or participant_id not in (session.controller, session.target):
        return Refused(Code.NO_SUCH_REQUEST, "no remote-control session of yours")
    return Ok()


def control_lapse(state: MeetingState, session: ControlSession) -> str | None:
    """Why the session ends by itself now, or None: `left` (either side gone or waiting),
    `not_sharing` (the screen is no longer shared), `not_a_moderator` (the controller lost the role)."""
    controller, target = state.get(session.controller), state.get(session.target)
    if state.ended or controller is None or target is None or controller.waiting or target.waiting:
        return "left"
    if not controller.role.moderates:
        return "not_a_moderator"
    if not sharing(state, session.target):
        return "not_sharing"
    return None
