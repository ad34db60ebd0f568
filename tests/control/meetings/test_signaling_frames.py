"""Every signaling frame is validated; a malformed one is a FrameError with a stable code."""

import pytest

from control.errors import Unauthenticated
from control.meetings.errors import MeetingError, engine_unavailable
from control.signaling import CLOSE_TRY_AGAIN, FrameError, Join, Moderate, Publish, View, _join_refusal_code, parse


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"\x00", "malformed"),
        ("not json", "malformed"),
        ("[1]", "malformed"),
        ('{"ref": "a"}', "malformed"),
        ('{"type": "dance"}', "invalid"),
        ('{"type": "publish", "sdp": "v=0", "sources": {"0": "piano"}}', "invalid"),
        ('{"type": "moderate", "action": "explode"}', "invalid"),
        ('{"type": "moderate", "action": "ban", "target": "p", "extra": 1}', "invalid"),
        ('{"type": "subscribe-answer", "sdp": "v=0", "version": "1"}', "invalid"),
        ('{"type": "chat", "text": ""}', "invalid"),
        ('{"type": "join", "token": "t", "room_id": "r", "resume": ""}', "invalid"),
        ('{"type": "join", "token": "t", "room_id": "r", "keep_media": "yes"}', "invalid"),
        ('{"type": "ping", "ref": "' + "x" * 65 + '"}', "invalid"),
        ('{"type": "view", "consumer_id": "c1", "width": -1, "height": 10}', "invalid"),
        ('{"type": "view", "consumer_id": "c1", "width": 10}', "invalid"),
        ('{"type": "view", "consumer_id": "", "width": 10, "height": 10}', "invalid"),
        ('{"type": "view", "consumer_id": "c1", "width": 1.5, "height": 10}', "invalid"),
    ],
)
def test_malformed_frames(raw, code) -> None:
    with pytest.raises(FrameError) as error:
        parse(raw)
    assert error.value.code == code


def test_ref_is_echoed_on_invalid_frames() -> None:
    with pytest.raises(FrameError) as error:
        parse('{"type": "moderate", "action": "explode", "ref": "r7"}')
    assert error.value.ref == "r7"


def test_valid_frames() -> None:
    frame = parse('{"type": "publish", "sdp": "v=0", "sources": {"0": "screen-audio"}, "ref": "1"}')
    assert isinstance(frame, Publish) and frame.sources["0"] == "screen-audio"
    moderate = parse('{"type": "moderate", "action": "remove_for_period", "target": "p1", "seconds": 60}')
    assert isinstance(moderate, Moderate) and moderate.seconds == 60
    view = parse('{"type": "view", "consumer_id": "b.c1", "width": 0, "height": 0, "ref": "9"}')
    assert isinstance(view, View) and (view.consumer_id, view.width, view.height) == ("b.c1", 0, 0)


def test_join_may_resume() -> None:
    join = parse('{"type": "join", "token": "t", "room_id": "r", "resume": "x.y.z", "keep_media": true}')
    assert isinstance(join, Join) and join.resume == "x.y.z" and join.keep_media is True
    plain = parse('{"type": "join", "token": "t", "room_id": "r"}')
    assert plain.resume is None and plain.keep_media is False


def test_a_join_the_engine_could_not_carry_out_may_be_tried_again() -> None:
    assert _join_refusal_code(engine_unavailable("no worker")) == CLOSE_TRY_AGAIN == 1013
    assert _join_refusal_code(Unauthenticated("expired", code="invalid_token")) == 4001
    assert _join_refusal_code(MeetingError("banned", code="banned")) == 4003
