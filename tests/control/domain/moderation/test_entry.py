"""Entry: opening and joining a meeting, the waiting room and visits."""

import pytest
from moderation_support import (
    CAM,
    MIC,
    SCREEN,
    SCREEN_AUDIO,
    T0,
    P,
    allowed,
    refused,
    standard,
)

from control.domain.meeting_state import (
    Code,
    GateConsumer,
    GateProducer,
    RoomFeatures,
    media_plan,
)
from control.domain.moderation import (
    Action,
    Command,
    Disconnect,
    Reason,
    VisitChanged,
    WaitingChanged,
    decide,
    join,
    open_meeting,
)
from control.domain.roles import Capability, Role

# --- waiting room ----------------------------------------------------------------------------


def test_arrivals_wait_when_the_room_has_a_waiting_room():
    state = open_meeting(RoomFeatures(waiting_room=True), "o", "alice", registered=True, rights=Role.ORGANIZER, now=T0)
    result = allowed(join(state, "g", "guest", registered=False, now=T0 + 1))
    assert result.state.get("g").waiting
    assert all(not isinstance(e, GateConsumer) or not e.open for e in result.effects)
    state = open_meeting(RoomFeatures(waiting_room=False), "o", "alice", registered=True, rights=Role.ORGANIZER, now=T0)
    result = allowed(join(state, "g", "guest", registered=False, now=T0 + 1))
    assert result.state.get("g").admitted
    assert GateConsumer("o", MIC, "g", True) in result.effects


def test_admit_deny_send_back():
    result = allowed(decide(standard(), "m2", Command(Action.ADMIT, "w1"), T0))
    assert WaitingChanged("w1", False) in result.effects
    assert GateConsumer("o", MIC, "w1", True) in result.effects
    result = allowed(decide(standard(), "m2", Command(Action.DENY, "w1"), T0))
    assert result.state.get("w1") is None and Disconnect("w1", Reason.DENIED) in result.effects
    result = allowed(decide(standard(), "o", Command(Action.SEND_BACK, "m1"), T0))
    sent = result.state.get("m1")
    assert sent.waiting and sent.role is P and sent.sources_on == frozenset()
    assert GateConsumer("o", MIC, "m1", False) in result.effects
    assert GateProducer("m1", MIC, False) in result.effects
    refused(decide(standard(), "m1", Command(Action.SEND_BACK, "m2"), T0), Code.TARGET_NOT_LOWER)
    refused(decide(standard(waiting_room=False), "m1", Command(Action.SEND_BACK, "p1"), T0), Code.NO_WAITING_ROOM)


def test_admission_turns_sources_off():
    state = allowed(decide(standard(), "w1", Command(Action.TURN_ON_SOURCE, source=MIC), T0)).state
    state = allowed(decide(state, "m1", Command(Action.ADMIT, "w1"), T0)).state
    assert state.get("w1").sources_on == frozenset()


def test_a_visit_is_two_way_audio_and_video_with_one_moderator_only():
    state = allowed(decide(standard(), "w1", Command(Action.TURN_ON_SOURCE, source=CAM), T0)).state
    result = allowed(decide(state, "m1", Command(Action.VISIT, "w1"), T0))
    state = result.state
    assert VisitChanged("m1", "w1", True) in result.effects
    assert GateProducer("w1", CAM, True) in result.effects
    assert GateConsumer("w1", CAM, "m1", True) in result.effects
    assert GateConsumer("m1", MIC, "w1", True) in result.effects
    assert GateConsumer("m1", MIC, "o", False) in result.effects  # the meeting does not overhear
    plan = media_plan(state)
    assert plan.audiences[("w1", CAM)] == {"m1"}
    assert not plan.may_receive("m1", SCREEN, "w1")
    assert not plan.may_receive("o", MIC, "w1")
    refused(decide(state, "m2", Command(Action.VISIT, "w1"), T0), Code.ALREADY_VISITED)
    # visiting someone else ends the first visit
    state = allowed(decide(state, "m1", Command(Action.VISIT, "w2"), T0)).state
    assert state.visitor_of("w1") is None and state.visitor_of("w2").id == "m1"
    # ending a visit turns the moderator's microphone and camera off
    result = allowed(decide(state, "m1", Command(Action.END_VISIT), T0))
    assert result.state.get("m1").sources_on == {SCREEN, SCREEN_AUDIO}


def test_a_visitor_in_presenter_mode_speaks_to_the_visited_only():
    state = allowed(decide(standard(), "m1", Command(Action.START_PRESENTER_MODE), T0)).state
    state = allowed(decide(state, "m1", Command(Action.VISIT, "w1"), T0)).state
    state = allowed(decide(state, "w1", Command(Action.TURN_ON_SOURCE, source=MIC), T0)).state
    result = allowed(decide(state, "m1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    plan = media_plan(result.state)
    assert plan.is_open("m1", MIC) and plan.audiences[("m1", MIC)] == {"w1"}
    assert plan.is_open("w1", MIC) and plan.audiences[("w1", MIC)] == {"m1"}


@pytest.mark.parametrize(
    "who, command",
    [
        ("w1", Command(Action.LEAVE)),
        ("m2", Command(Action.DENY, "w1")),
        ("m2", Command(Action.BAN, "w1")),
        ("m2", Command(Action.ADMIT, "w1")),
    ],
)
def test_when_the_visited_person_goes_the_visitor_is_not_live_in_the_meeting(who, command):
    state = allowed(decide(standard(), "m1", Command(Action.VISIT, "w1"), T0)).state
    result = allowed(decide(state, who, command, T0))
    assert result.state.get("m1").sources_on == {SCREEN, SCREEN_AUDIO}
    assert VisitChanged("m1", "w1", False) in result.effects
    assert not media_plan(result.state).is_open("m1", MIC)


def test_admitting_ends_the_visit():
    state = allowed(decide(standard(), "m1", Command(Action.VISIT, "w1"), T0)).state
    state = allowed(decide(state, "m2", Command(Action.ADMIT, "w1"), T0)).state
    assert state.get("m1").visiting is None


def test_join_defaults_and_refusals():
    state = open_meeting(RoomFeatures(screen_share=False), "o", "alice", registered=True, rights=Role.ORGANIZER, now=T0)
    state = allowed(join(state, "p", "bob", registered=True, now=T0)).state
    assert Capability.SCREEN_SHARE not in state.get("p").capabilities
    refused(join(state, "p", "carol", registered=True, now=T0), Code.ALREADY_IN_MEETING)
    state = allowed(join(state, "g", "gus", registered=False, now=T0, capabilities=frozenset({Capability.CHAT}))).state
    assert state.get("g").capabilities == {Capability.CHAT}
