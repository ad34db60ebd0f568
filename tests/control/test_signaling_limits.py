"""Bounded input on the signaling socket: frame length, JSON shape, frames per connection and joins per
address (docs/signaling.md, "Limits")."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from control import signaling
from control.app import create_app
from control.settings import Limits, Settings

LIMITS = Limits(max_frame=1000, max_json_depth=8, login=None, refresh=None, invitation=None, join=None, frames=None)


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Callable[[Limits], TestClient]:
    """A control plane with these limits (on a migrated database), seen from one address."""

    def make(limits: Limits) -> TestClient:
        settings = Settings(data_dir=tmp_path, database_url=database_url, token_key="k" * 40, limits=limits)
        return TestClient(create_app(settings), client=("192.0.2.7", 50000))

    return make


@pytest.fixture
def bounded(server) -> Iterator[TestClient]:
    with server(LIMITS) as client:
        yield client


def ping(ws, ref: str = "p") -> None:
    ws.send_json({"type": "ping", "ref": ref})
    assert ws.receive_json() == {"type": "pong", "ref": ref}


def test_an_oversized_frame_is_answered_and_the_connection_kept(bounded):
    with bounded.websocket_connect(signaling.PATH) as ws:
        ws.send_text('{"type": "ping", "ref": "' + "x" * 2000 + '"}')
        error = ws.receive_json()
        assert error == {
            "type": "error",
            "code": "frame_too_large",
            "message": "frame longer than 1000 characters",
            "ref": None,
        }
        ping(ws)


@pytest.mark.parametrize("depth, code", [(20, "json_too_deep"), (400, "json_too_deep")])
def test_deep_frames_are_answered(bounded, depth, code):
    with bounded.websocket_connect(signaling.PATH) as ws:
        ws.send_text('{"type": "ping", "x": ' + "[" * depth + "]" * depth + "}")
        assert ws.receive_json()["code"] == code
        ping(ws)


def test_too_many_values_are_answered():
    with pytest.raises(signaling.FrameError) as error:
        signaling.parse('{"type": "ping", "x": [' + ",".join("1" * 100) + "]}", Limits(max_json_values=50))
    assert error.value.code == "json_too_many_values"


def test_frames_over_the_rate_are_dropped_then_the_socket_closed(server):
    with server(Limits(frames="5 per 10 seconds")) as client, client.websocket_connect(signaling.PATH) as ws:
        for n in range(5):
            ping(ws, f"p{n}")
        ws.send_json({"type": "ping", "ref": "over"})
        error = ws.receive_json()
        assert error["code"] == "rate_limited" and error["message"].startswith("too many frames on this connection")
        for _ in range(signaling.MAX_ERRORS):
            ws.send_json({"type": "ping"})
        codes = [ws.receive_json()["code"] for _ in range(signaling.MAX_ERRORS)]
        assert set(codes) == {"rate_limited"}
        closed = ws.receive()
        assert closed == {
            "type": "websocket.close",
            "code": signaling.CLOSE_ERRORS,
            "reason": "too many refused frames",
        }


def test_each_connection_has_its_own_frame_window(server):
    with server(Limits(frames="3 per 10 seconds")) as client:
        for _ in range(2):
            with client.websocket_connect(signaling.PATH) as ws:
                for n in range(3):
                    ping(ws, f"p{n}")


def test_joins_are_rate_limited_per_address_with_close_4029(server):
    with server(Limits(join="2 per 10 seconds")) as client:
        for _ in range(2):  # refused by authentication, but counted
            with client.websocket_connect(signaling.PATH) as ws:
                ws.send_json({"type": "join", "token": "not-a-token", "room_id": "r"})
                assert ws.receive_json()["code"] != "rate_limited"
                assert ws.receive()["code"] == signaling.CLOSE_AUTH
        with client.websocket_connect(signaling.PATH) as ws:
            ws.send_json({"type": "join", "token": "not-a-token", "room_id": "r", "ref": "j"})
            error = ws.receive_json()
            assert error["code"] == "rate_limited" and error["ref"] == "j"
            assert 1 <= error["retry_after"] <= 10
            assert error["message"] == f"too many joins (at most 2 per 10 seconds); retry in {error['retry_after']} s"
            closed = ws.receive()
            assert closed["type"] == "websocket.close" and closed["code"] == signaling.CLOSE_RATE


def test_other_error_frames_carry_no_retry_after(bounded):
    with bounded.websocket_connect(signaling.PATH) as ws:
        ws.send_text("not json")
        assert "retry_after" not in ws.receive_json()
