"""Each command by example: the state it leaves and the effects it emits."""

import pytest
from moderation_support import (
    CAM,
    HOUR,
    MIC,
    SCREEN,
    SCREEN_AUDIO,
    T0,
    M,
    P,
    allowed,
    grant,
    member,
    refused,
    revoke,
    standard,
)

from control.domain.meeting_state import (
    Code,
    GateProducer,
    Ok,
    Participant,
    RoomFeatures,
)
from control.domain.moderation import (
    Action,
    Command,
    Disconnect,
    FloorChanged,
    PermissionChanged,
    Reason,
    RevokeTokens,
    RoleChanged,
    SourceChanged,
    check_produce,
    decide,
    join,
    open_meeting,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    Capability,
    Role,
    Source,
)

# --- roles ---------------------------------------------------------------------------------


def test_opening_a_meeting_makes_the_registered_opener_organizer():
    state = open_meeting(RoomFeatures(), "o", "alice", registered=True, rights=Role.ORGANIZER, now=T0)
    assert state.organizer().id == "o" and state.get("o").capabilities == ALL_CAPABILITIES
    guest_first = open_meeting(RoomFeatures(), "g", "guest", registered=False, rights=Role.ORGANIZER, now=T0)
    assert guest_first.organizer() is None and guest_first.get("g").waiting, "a guest never organizes"


def test_moderators_appoint_moderators_including_guests():
    result = allowed(decide(standard(), "m2", Command(Action.APPOINT_MODERATOR, target="p2"), T0))
    assert result.state.get("p2").role is M
    assert RoleChanged("p2", M) in result.effects


def test_appointing_gives_back_every_capability():
    state = allowed(decide(standard(), "o", revoke("p1", Capability.MICROPHONE), T0)).state
    state = allowed(decide(state, "m1", Command(Action.APPOINT_MODERATOR, target="p1"), T0)).state
    assert state.get("p1").capabilities == ALL_CAPABILITIES


def test_only_the_organizer_revokes_a_moderator():
    refused(decide(standard(), "m1", Command(Action.REVOKE_MODERATOR, target="m2"), T0), Code.TARGET_NOT_LOWER)
    result = allowed(decide(standard(), "o", Command(Action.REVOKE_MODERATOR, target="m2"), T0))
    assert result.state.get("m2").role is P


# --- muting, permissions ------------------------------------------------------------------


def test_moderators_mute_the_organizer():
    result = allowed(decide(standard(), "m2", Command(Action.TURN_OFF_SOURCE, "o", source=MIC), T0))
    assert MIC not in result.state.get("o").sources_on
    assert GateProducer("o", MIC, False) in result.effects
    assert SourceChanged("o", MIC, False) in result.effects


def test_moderators_cannot_stop_a_higher_roles_screen():
    refused(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "o", source=SCREEN), T0), Code.TARGET_NOT_LOWER)
    allowed(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "p1", source=SCREEN), T0))


def test_after_a_mute_the_participant_may_unmute():
    state = allowed(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "p1", source=MIC), T0)).state
    result = allowed(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    assert GateProducer("p1", MIC, True) in result.effects


def test_after_a_revoke_the_participant_cannot_unmute_until_granted():
    result = allowed(decide(standard(), "m1", revoke("p1", Capability.MICROPHONE), T0))
    assert GateProducer("p1", MIC, False) in result.effects
    assert PermissionChanged("p1", Capability.MICROPHONE, False) in result.effects
    state = result.state
    refused(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.PERMISSION_MISSING)
    refused(check_produce(state, "p1", MIC), Code.PERMISSION_MISSING)
    state = allowed(decide(state, "m1", grant("p1", Capability.MICROPHONE), T0)).state
    assert MIC not in state.get("p1").sources_on  # granting does not unmute
    assert isinstance(check_produce(state, "p1", MIC), Ok)
    allowed(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))


def test_revoking_screen_share_closes_screen_and_screen_audio():
    result = allowed(decide(standard(), "o", revoke("m1", Capability.SCREEN_SHARE), T0))
    assert GateProducer("m1", SCREEN, False) in result.effects
    assert GateProducer("m1", SCREEN_AUDIO, False) in result.effects


def test_nobody_grants_themselves_a_permission():
    refused(decide(standard(), "m1", grant("m1", Capability.CHAT), T0), Code.TARGET_NOT_LOWER)


@pytest.mark.parametrize(
    "action, muted",
    [(Action.MUTE_ALL_AUDIO, {MIC}), (Action.MUTE_ALL_VIDEO, {CAM}), (Action.MUTE_ALL_BOTH, {MIC, CAM})],
)
def test_mute_all_mutes_everyone_but_the_actor_including_the_organizer(action, muted):
    state = allowed(decide(standard(), "m2", Command(action), T0)).state
    for p in state.admitted():
        expected = set(Source) if p.id == "m2" else set(Source) - muted
        assert p.sources_on == expected, p.id


# --- presenter mode and the floor --------------------------------------------------------------


def test_presenter_mode():
    state = allowed(decide(standard(), "m1", Command(Action.GIVE_FLOOR, "p1"), T0)).state
    result = allowed(decide(state, "m1", Command(Action.START_PRESENTER_MODE), T0))
    state = result.state
    assert [p.id for p in state.admitted() if MIC in p.sources_on] == ["p1"]
    assert GateProducer("o", MIC, False) in result.effects
    assert CAM in state.get("p2").sources_on
    refused(decide(state, "p2", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.FLOOR_REQUIRED)
    refused(decide(state, "o", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.FLOOR_REQUIRED)
    state = allowed(decide(state, "o", Command(Action.GIVE_FLOOR, "o"), T0)).state
    allowed(decide(state, "o", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    result = allowed(decide(state, "m1", Command(Action.TAKE_FLOOR, "p1"), T0))
    assert FloorChanged("p1", False) in result.effects
    assert GateProducer("p1", MIC, False) in result.effects
    state = allowed(decide(result.state, "m1", Command(Action.STOP_PRESENTER_MODE), T0)).state
    allowed(decide(state, "p2", Command(Action.TURN_ON_SOURCE, source=MIC), T0))


def test_floor_cannot_be_taken_from_a_higher_role():
    state = allowed(decide(standard(), "o", Command(Action.GIVE_FLOOR, "o"), T0)).state
    refused(decide(state, "m1", Command(Action.TAKE_FLOOR, "o"), T0), Code.TARGET_NOT_LOWER)
    refused(decide(state, "p1", Command(Action.GIVE_FLOOR, "p1"), T0), Code.ROLE_TOO_LOW)


# --- removal -----------------------------------------------------------------------------


def test_exclude_keeps_the_person_out_of_this_meeting():
    result = allowed(decide(standard(), "m1", Command(Action.EXCLUDE, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.EXCLUDED, None) in result.effects
    assert Disconnect("p2", Reason.EXCLUDED) in result.effects
    refused(join(result.state, "p2b", "person-p2", registered=False, now=T0 + 10 * HOUR), Code.EXCLUDED)


def test_remove_for_twelve_hours_by_default():
    result = allowed(decide(standard(), "m1", Command(Action.REMOVE_FOR_PERIOD, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + 12 * HOUR) in result.effects
    state = result.state
    refused(join(state, "x", "person-p2", registered=False, now=T0 + 12 * HOUR - 1), Code.REMOVED)
    allowed(join(state, "x", "person-p2", registered=False, now=T0 + 12 * HOUR))


def test_removal_period_is_configurable():
    state = standard()
    from dataclasses import replace

    state = replace(state, features=replace(state.features, removal_seconds=HOUR))
    result = allowed(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + HOUR) in result.effects
    result = allowed(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2", seconds=60), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + 60) in result.effects
    refused(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2", seconds=0), T0), Code.INVALID_ARGUMENT)


def test_ban_and_unban():
    state = allowed(decide(standard(), "m1", Command(Action.BAN, "p1"), T0)).state
    refused(join(state, "x", "person-p1", registered=True, now=T0 + 1000 * HOUR), Code.BANNED)
    state = allowed(decide(state, "m2", Command(Action.UNBAN, person="person-p1"), T0)).state
    allowed(join(state, "x", "person-p1", registered=True, now=T0))
    refused(decide(state, "p2", Command(Action.UNBAN, person="person-p1"), T0), Code.ROLE_TOO_LOW)


def test_removal_takes_every_connection_of_the_person():
    state = standard(waiting_room=False)
    state = allowed(join(state, "p1-phone", "person-p1", registered=True, now=T0)).state
    result = allowed(decide(state, "m1", Command(Action.BAN, "p1"), T0))
    assert result.state.of_person("person-p1") == ()
    assert {Disconnect("p1", Reason.BANNED), Disconnect("p1-phone", Reason.BANNED)} <= set(result.effects)


def test_removal_is_refused_if_any_connection_of_the_person_is_not_lower():
    state = standard(waiting_room=False)
    state = state.put(member("m2-phone", M, registered=False, joined_at=9)).put(
        Participant("m2-laptop", "person-m2", registered=False, joined_at=9, capabilities=ALL_CAPABILITIES)
    )
    refused(decide(state, "m1", Command(Action.EXCLUDE, "m2-laptop"), T0), Code.TARGET_NOT_LOWER)


def test_moderators_cannot_remove_moderators_but_the_organizer_can():
    for action in (Action.EXCLUDE, Action.REMOVE_FOR_PERIOD, Action.BAN):
        refused(decide(standard(), "m1", Command(action, "m2"), T0), Code.TARGET_NOT_LOWER)
        refused(decide(standard(), "m1", Command(action, "o"), T0), Code.TARGET_NOT_LOWER)
        allowed(decide(standard(), "o", Command(action, "m2"), T0))
