"""The `record` right: start and stop recording, by role, and the state's indicator."""

from __future__ import annotations

from dataclasses import replace

import pytest
from moderation_support import standard

from control.domain.meeting_state import Code, Refused
from control.domain.moderation import Action, Allowed, Command, RecordingChanged, decide
from control.domain.moderation.commands import RECORD_ACTIONS, ROOM_ACTIONS

ACTORS = {"o": True, "m1": True, "m2": True, "p1": False, "p2": False}
"""Who holds the right in the standard meeting: the organizer and moderators (a guest moderator
too); participants, registered or not, never."""


@pytest.mark.parametrize("actor, holds", sorted(ACTORS.items()))
@pytest.mark.parametrize("recording", [False, True])
@pytest.mark.parametrize("action", sorted(RECORD_ACTIONS))
def test_the_record_grid(actor, holds, recording, action):
    state = replace(standard(), recording=recording)
    result = decide(state, actor, Command(action), 0.0)
    if not holds:
        assert isinstance(result, Refused) and result.code is Code.ROLE_TOO_LOW
        return
    start = action is Action.START_RECORDING
    if start == recording:
        assert isinstance(result, Refused)
        assert result.code is (Code.ALREADY_RECORDING if start else Code.NOT_RECORDING)
        return
    assert isinstance(result, Allowed)
    assert result.state.recording is start
    assert result.effects == (RecordingChanged(start),)
    assert replace(result.state, recording=recording) == state  # nothing else changes


def test_waiting_people_do_not_record():
    result = decide(standard(), "w1", Command(Action.START_RECORDING), 0.0)
    assert isinstance(result, Refused) and result.code is Code.ACTOR_WAITING


def test_record_actions_are_room_actions():
    assert RECORD_ACTIONS <= ROOM_ACTIONS


def test_an_ended_meeting_is_not_recorded():
    state = replace(standard(), ended=True)
    result = decide(state, "o", Command(Action.START_RECORDING), 0.0)
    assert isinstance(result, Refused) and result.code is Code.MEETING_ENDED
