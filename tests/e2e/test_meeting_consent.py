"""Settings requests and remote control end to end: aiortc participants through `podium serve`.
Nothing reaches a moderator, and no input reaches a participant, without that participant's consent;
the participant ends remote control; a native helper attached to the event stream gets the same
events in order; everything is audited."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from media import NumberedVideoTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(90)

REPORT = {
    "devices": [
        {"kind": "videoinput", "device_id": "cam-1", "label": "Front camera"},
        {"kind": "audioinput", "device_id": "mic-1", "label": "Headset"},
    ],
    "capture": [
        {
            "source": "camera",
            "device_id": "cam-1",
            "width": 1280,
            "height": 720,
            "frame_rate": 30.0,
            "bitrate": 1_500_000,
        }
    ],
    "user_agent": "test",
}


async def user(podium: PodiumServer, api: Api, room: dict, name: str, people: list) -> Participant:
    user_id, token = await api.create_user(name)
    await api.grant(room["id"], user_id)
    p = await Participant.join(podium, token, room["id"])
    people.append(p)
    return p


async def refused(p: Participant, frame: dict) -> str:
    with pytest.raises(SignalingError) as error:
        await p.request(frame)
    return str(error.value.code)


def of_type(p: Participant, *types: str) -> list[dict]:
    return [f for f in p.events if f.get("type") in types]


async def audited(api: Api, action: str) -> list[dict]:
    return (await api.call("GET", f"/audit-events?action={action}"))["items"]


async def test_settings_are_shared_only_with_consent_and_only_with_the_asking_moderator(podium, api, people) -> None:
    room = await api.create_room("Settings")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice = await user(podium, api, room, "alice", people)
    bob = await user(podium, api, room, "bob", people)

    # only moderators ask, and never themselves
    assert await refused(bob, {"type": "settings-request", "target": alice.id}) == "role_too_low"
    assert await refused(organizer, {"type": "settings-request", "target": organizer.id}) == "self_not_allowed"
    assert await refused(organizer, {"type": "settings-request", "target": "p-nobody"}) == "unknown_participant"

    # refused: the moderator hears only the refusal, even if the client sent its report anyway
    asked = await organizer.request({"type": "settings-request", "target": alice.id})
    prompt = await alice.wait_event("settings-requested", lambda f: f["request_id"] == asked["request_id"])
    assert prompt["moderator_id"] == organizer.id and prompt["propose"] is None
    await alice.request(
        {"type": "settings-answer", "request_id": asked["request_id"], "allow": False, "report": REPORT}
    )
    declined = await organizer.wait_event("settings-declined")
    assert declined == {"type": "settings-declined", "request_id": asked["request_id"], "participant_id": alice.id}
    assert (
        await refused(
            alice, {"type": "settings-answer", "request_id": asked["request_id"], "allow": True, "report": REPORT}
        )
        == "no_such_request"
    )  # answered once

    # consent: the report goes to the asking moderator only
    asked = await organizer.request({"type": "settings-request", "target": alice.id})
    await alice.wait_event("settings-requested", lambda f: f["request_id"] == asked["request_id"])
    answer = {"type": "settings-answer", "request_id": asked["request_id"], "allow": True, "report": REPORT}
    assert await refused(bob, answer) == "no_such_request"  # only the person asked answers
    assert await refused(alice, {**answer, "report": None}) == "missing_argument"
    await alice.request(answer)
    report = await organizer.wait_event("settings-report")
    assert report["participant_id"] == alice.id and report["report"] == REPORT and report["applied"] is False
    await asyncio.sleep(0.3)
    assert not of_type(bob, "settings-report", "settings-declined", "settings-requested")
    assert not of_type(alice, "settings-report", "settings-declined")

    # a proposed change reaches the participant, whose client applies it only with consent
    propose = {"source": "camera", "width": 640, "height": 360, "frame_rate": 15.0}
    asked = await organizer.request({"type": "settings-request", "target": alice.id, "propose": propose})
    prompt = await alice.wait_event("settings-requested", lambda f: f["request_id"] == asked["request_id"])
    assert prompt["propose"] == propose
    lowered = {**REPORT, "capture": [{**REPORT["capture"][0], "width": 640, "height": 360, "frame_rate": 15.0}]}
    await alice.request({**answer, "request_id": asked["request_id"], "report": lowered, "applied": True})
    applied = await organizer.wait_event("settings-report", lambda f: f["request_id"] == asked["request_id"])
    assert applied["applied"] is True and applied["report"]["capture"][0]["width"] == 640

    for action in ("settings.requested", "settings.declined", "settings.shared", "settings.applied"):
        assert await audited(api, action), action


async def test_remote_control_only_after_consent_in_order_and_ended_by_the_participant(podium, api, people) -> None:
    room = await api.create_room("Control", screen_share=True)
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice = await user(podium, api, room, "alice", people)
    bob = await user(podium, api, room, "bob", people)
    request = {"type": "control-request", "target": alice.id}
    assert await refused(organizer, request) == "not_sharing"
    await alice.publish(screen=NumberedVideoTrack())
    await organizer.wait_event("source-changed", lambda f: f["participant_id"] == alice.id and f["source"] == "screen")
    assert await refused(bob, request) == "role_too_low"

    # asked, not yet accepted: no input goes through
    sid = (await organizer.request(request))["session_id"]
    assert await refused(organizer, request) == "already_controlled"
    await alice.wait_event("control-requested", lambda f: f["session_id"] == sid and f["moderator_id"] == organizer.id)
    move = {"type": "control-event", "session_id": sid, "event": {"kind": "pointermove", "x": 0.5, "y": 0.5}}
    assert await refused(organizer, move) == "no_such_request"
    assert await refused(bob, {"type": "control-answer", "session_id": sid, "allow": True}) == "no_such_request"

    # accepted: events reach alice's client and her native helper, in order, numbered
    await alice.request({"type": "control-answer", "session_id": sid, "allow": True})
    started = await alice.wait_event("control-started", lambda f: f["session_id"] == sid)
    await organizer.wait_event("control-started", lambda f: f["session_id"] == sid)
    assert "helper_token" not in of_type(organizer, "control-started")[0]
    helper = await websockets.connect(podium.ws_url + "/remote-input")
    await helper.send(json.dumps({"type": "attach", "token": started["helper_token"]}))
    assert json.loads(await helper.recv()) == {"type": "attached", "session_id": sid}

    sent = []
    for i in range(12):
        kind = ("pointermove", "pointerdown", "pointerup")[i % 3]
        event = {"kind": kind, "x": i / 20, "y": 0.25, **({"button": 0} if kind != "pointermove" else {})}
        sent.append(event)
        reply = await organizer.request({"type": "control-event", "session_id": sid, "event": event})
        assert reply["seq"] == i + 1
    key = {"kind": "keydown", "key": "a", "code": "KeyA", "modifiers": ["shift"]}
    await organizer.request({"type": "control-event", "session_id": sid, "event": key})
    sent.append(key)
    await alice.wait_event("control-input", lambda f: f["seq"] == 13)
    got = of_type(alice, "control-input")
    assert [f["seq"] for f in got] == list(range(1, 14)) and [f["event"] for f in got] == sent
    helper_got = [json.loads(await helper.recv()) for _ in range(13)]
    assert helper_got == got
    assert await refused(alice, move) == "no_such_request"  # only the controller sends input
    assert not of_type(bob, "control-input", "control-started", "control-requested")

    # rate-limited: at most 30 events a second; the rest refused, none relayed out of order (40 frames
    # stay within the connection's 50 frames a second once the window of the events above has passed)
    await asyncio.sleep(1.1)
    burst = await asyncio.gather(*(organizer.request(move) for _ in range(40)), return_exceptions=True)
    limited = [r for r in burst if isinstance(r, SignalingError)]
    assert limited and {r.code for r in limited} == {"rate_limited"}
    last = 13 + len(burst) - len(limited)
    await alice.wait_event("control-input", lambda f: f["seq"] == last)
    assert [f["seq"] for f in of_type(alice, "control-input")] == list(range(1, last + 1))

    # the participant ends it: both sides and the helper are told, and no more input passes
    await alice.request({"type": "control-end", "session_id": sid})
    ended = await organizer.wait_event("control-ended", lambda f: f["session_id"] == sid)
    assert ended["by"] == alice.id and ended["reason"] == "ended" and ended["events"] == last
    frames = [json.loads(raw) async for raw in helper]  # until the server closes it
    assert frames[-1]["type"] == "control-ended" and helper.close_code == 1000
    assert await refused(organizer, move) == "no_such_request"

    # declined: nothing starts; stopping the screen share ends a running session by itself
    sid2 = (await organizer.request(request))["session_id"]
    await alice.request({"type": "control-answer", "session_id": sid2, "allow": False})
    await organizer.wait_event("control-declined", lambda f: f["session_id"] == sid2)
    sid3 = (await organizer.request(request))["session_id"]
    await alice.request({"type": "control-answer", "session_id": sid3, "allow": True})
    await organizer.wait_event("control-started", lambda f: f["session_id"] == sid3)
    await alice.request({"type": "set-source", "source": "screen", "on": False})
    lapsed = await alice.wait_event("control-ended", lambda f: f["session_id"] == sid3)
    assert lapsed["reason"] == "not_sharing" and lapsed["by"] is None

    for action in ("remote_control.requested", "remote_control.started", "remote_control.declined"):
        assert await audited(api, action), action
    ends = await audited(api, "remote_control.ended")
    first = next(e for e in ends if e["after"]["session"] == sid)
    assert first["after"]["events"] == last and first["after"]["participant"] == alice.id
