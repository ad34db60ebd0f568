"""The redirect of a join or REST call to the replica that runs the meeting: the error, its frame and
close code (docs/signaling.md, "Replicas")."""

from control import signaling
from control.meetings import frames
from control.meetings.errors import MeetingElsewhere


def test_the_owners_signaling_url_follows_its_scheme() -> None:
    assert MeetingElsewhere("https://podium-2.example/").signaling_url() == "wss://podium-2.example/signaling/v1"
    assert MeetingElsewhere("http://127.0.0.1:8001").signaling_url() == "ws://127.0.0.1:8001/signaling/v1"


def test_the_error_carries_the_owner() -> None:
    error = MeetingElsewhere("https://podium-2.example")
    assert error.status == 307 and error.code == "meeting_elsewhere"
    assert error.body()["error"]["owner_url"] == "https://podium-2.example"
    assert signaling._join_refusal_code(error) == signaling.CLOSE_ELSEWHERE == 4307


def test_only_a_redirect_frame_has_a_url() -> None:
    plain = frames.Error(code="no_access", message="m").wire()
    assert "url" not in plain and "retry_after" not in plain
    moved = frames.Error(code="meeting_elsewhere", message="m", url="wss://b/signaling/v1").wire()
    assert moved["url"] == "wss://b/signaling/v1"
