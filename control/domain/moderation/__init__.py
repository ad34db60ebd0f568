"""Moderation rules: who may do what to whom in a running meeting, and what follows.

Pure: every function takes a `MeetingState` (and `now` where time matters) and returns a decision —
`Allowed(state, effects)` or `Refused(code, message)`. Nothing here touches a store, an engine or
a clock. The service applies policy, commits `Allowed.state`, then carries out `Allowed.effects`.

Who may act on whom is `decisions.may_act`, over roles only: participants manage nobody,
moderators act on strictly lower roles, except that muting applies to everyone.

Where the issue is silent, this package decides (each rule is tested):

- a moderator who turned someone's microphone or camera off does not stop them turning it on again
  (they still hold the capability); a revoked capability does, until granted back;
- "mute all" spares the acting moderator; presenter mode applies to the microphone only, and to
  everyone without the floor (moderators give themselves the floor);
- a visit is private both ways: the visited person's microphone and camera go to the visitor only,
  and the visitor's microphone and camera go to the visited person only (the meeting keeps their
  screen); ending a visit turns the visitor's microphone and camera off; admission turns the
  admitted person's sources off;
- removal acts on the person: every connection of theirs goes, and only if the actor outranks all;
- authority (`authority`): roles on entry come from rights in the room, never from arrival order;
  the organizer seat is held only by holders of organizer rights (else of moderator rights);
  people without moderator rights wait for a moderator unless the room lets participants start;
- succession (`choose_successor`): the organizer seat goes to the admitted holder of the highest
  rights, earliest joined first, ties by id; nobody is promoted above their rights, so a meeting
  may go on without organizer or moderator; it ends when nobody, admitted or waiting, remains;
- hiding (`hide`, `unhide`): moderators unlist a lower role or themselves; a hidden person is
  absent from the participant lists and counts of everyone but moderators and themselves
  (`meeting_state.listed`), and their media flows as before (an interpreter is heard);
- hand-over names an admitted, registered moderator holding moderator or organizer rights (a guest
  is refused: guest_cannot_organize; an appointed moderator without rights: rights_missing).

Gate effects and client notices are never written by hand: `commands.outcome` derives them from
the difference between the old and the new state.

The package: `commands` (actions, commands, effects and their order), `decisions` (`may_act`,
`decide` and the checks that change nothing), `entry` (opening, joining, the waiting room) and
`succession` (departures, vacant roles, the end of an empty meeting), `authority` (roles from
rights, the organizer seat, waiting for a moderator).
"""

from control.domain.moderation.authority import Arrival, arrival, waiting_for_moderator
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
    Allowed,
    Command,
    Decision,
    Disconnect,
    Effect,
    FloorChanged,
    HiddenChanged,
    MeetingEnded,
    Notice,
    PermissionChanged,
    Reason,
    RecordingChanged,
    RevokeTokens,
    RoleChanged,
    RoomChanged,
    SourceChanged,
    SuccessorChosen,
    VisitChanged,
    WaitingChanged,
)
from control.domain.moderation.decisions import (
    check_chat,
    check_files,
    check_produce,
    decide,
    may_act,
)
from control.domain.moderation.entry import (
    join,
    open_meeting,
)
from control.domain.moderation.succession import (
    choose_successor,
    fill_vacancies,
)

__all__ = [
    "CHAT_ALIASES",
    "FLOOR_ACTIONS",
    "HIDE_ACTIONS",
    "MUTE_SCOPE",
    "ROOM_ACTIONS",
    "SELF_ONLY",
    "TARGET_MUST_BE_ADMITTED",
    "TARGET_MUST_WAIT",
    "WAITING_ALLOWED",
    "Action",
    "Allowed",
    "Arrival",
    "Command",
    "Decision",
    "Disconnect",
    "Effect",
    "FloorChanged",
    "HiddenChanged",
    "MeetingEnded",
    "Notice",
    "PermissionChanged",
    "Reason",
    "RevokeTokens",
    "RoleChanged",
    "RecordingChanged",
    "RoomChanged",
    "SourceChanged",
    "SuccessorChosen",
    "VisitChanged",
    "WaitingChanged",
    "arrival",
    "check_chat",
    "check_files",
    "check_produce",
    "choose_successor",
    "decide",
    "fill_vacancies",
    "join",
    "may_act",
    "open_meeting",
    "waiting_for_moderator",
]
