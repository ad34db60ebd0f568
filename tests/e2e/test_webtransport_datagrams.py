"""WebTransport datagrams end to end, with aioquic WebTransport clients against `podium serve
--webtransport-port --dev-certificate` (docs/signaling.md, "Datagrams"):

- remote-control pointer moves sent as datagrams pass only once the participant consented; they
  reach a WebSocket participant as `control-input` frames and a WebTransport participant as
  `control-input` datagrams, numbered as on the stream path; what the stream carries stays on it;
- whiteboard previews reach the meeting's other WebTransport participants who hold the whiteboard
  right, as datagrams; not the sender, not those without the right, not the waiting room, never a
  WebSocket; the committed stroke still comes ordered on the stream;
- every drop (malformed, too big, stale, not permitted, rate limited, unknown session) is counted in
  /metrics, and the session goes on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import pytest
from aioquic.asyncio import connect
from harness import loopback_only
from media import NumberedVideoTrack
from podium_client import Api, Participant, PodiumServer, free_port
from webtransport_peer import WebTransportClient, client_configuration, joined_over_webtransport

pytestmark = pytest.mark.timeout(120)

DROPPED = re.compile(r'^podium_webtransport_datagrams_dropped_total\{reason="(\w+)"\} (\S+)$', re.M)


async def dropped(podium: PodiumServer) -> dict[str, int]:
    text = await asyncio.to_thread(podium.metrics)
    return {reason: int(float(value)) for reason, value in DROPPED.findall(text)}


async def dropped_reach(podium: PodiumServer, expected: dict[str, int]) -> dict[str, int]:
    """The counters once they reach `expected` (the server counts as the datagrams arrive)."""
    got: dict[str, int] = {}
    for _ in range(50):
        got = await dropped(podium)
        if all(got.get(k, 0) >= v for k, v in expected.items()):
            return got
        await asyncio.sleep(0.1)
    return got


def start(tmp_path) -> tuple[PodiumServer, int]:
    port = free_port()
    podium = PodiumServer.start(tmp_path / "podium", options=("--webtransport-port", str(port), "--dev-certificate"))
    return podium, port


def move(sid: str, x: float) -> dict:
    return {"type": "control-event", "session_id": sid, "event": {"kind": "pointermove", "x": x, "y": 0.5}}


async def controlled(moderator: Participant, alice: Participant) -> str:
    """A remote-control session of `moderator` on Alice's shared screen, consented."""
    await alice.publish(screen=NumberedVideoTrack())
    await moderator.wait_event("track-published", lambda f: f.get("participant_id") == alice.id)
    sid = (await moderator.request({"type": "control-request", "target": alice.id}))["session_id"]
    await alice.wait_event("control-requested", lambda f: f["session_id"] == sid)
    return sid


async def test_pointer_datagrams_pass_only_after_consent(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium, port = start(tmp_path)
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Datagrams", screen_share=True)
        alice_id, alice_token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        assert await dropped(podium) == dict.fromkeys(
            ("malformed", "rate_limited", "not_permitted", "stale", "too_big", "unknown_session"), 0
        )  # every reason's series from the start

        async with joined_over_webtransport(podium, port, api.token, room["id"]) as (organizer, client):
            alice = await Participant.join(podium, alice_token, room["id"])  # after the organizer: not waiting
            try:
                sid = await controlled(organizer, alice)
                client.send_numbered(move(sid, 0.1))  # no consent yet: dropped, not answered
                await dropped_reach(podium, {"not_permitted": 1})
                await alice.request({"type": "control-answer", "session_id": sid, "allow": True})
                await alice.wait_event("control-started", lambda f: f["session_id"] == sid)

                client.datagram(b"not json")
                client.datagram(b'{"type": "whiteboard", "n": 9, "op": {"kind": "clear"}}')  # ordered: never a datagram
                client.datagram(b" " * 1200 + json.dumps(move(sid, 0.9) | {"n": 10}).encode())  # over 1,200 bytes
                client.send_numbered(move(sid, 0.8) | {"ref": "d1"})  # nothing answers a datagram: no refs
                client.send_numbered(move(sid, 0.2))
                n = client.send_numbered(move(sid, 0.3))
                client.send_numbered(move(sid, 0.7), n)  # the same number again: stale
                await alice.wait_event("control-input", lambda f: f["event"]["x"] == 0.3)
                got = [f for f in alice.events if f.get("type") == "control-input"]
                assert [f["event"]["x"] for f in got] == [0.2, 0.3] and [f["seq"] for f in got] == [1, 2]
                assert not [f for f in alice.events if f.get("type") == "whiteboard-op"]
                counts = await dropped_reach(podium, {"malformed": 3, "too_big": 1, "stale": 1})
                assert counts == {"malformed": 3, "rate_limited": 0, "not_permitted": 1, "stale": 1, "too_big": 1,
                                  "unknown_session": 0}  # fmt: skip
                assert not [f for f in organizer.events if f["type"] == "error"]  # datagrams are never answered
                # the session goes on over the stream
                assert (await organizer.request(move(sid, 0.4)))["seq"] == 3
            finally:
                await alice.close()
    finally:
        podium.stop()


async def test_pointer_datagrams_reach_a_webtransport_participant_as_datagrams(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium, port = start(tmp_path)
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Datagrams both ways", screen_share=True)
        alice_id, alice_token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        async with contextlib.AsyncExitStack() as stack:
            organizer, moderator_client = await stack.enter_async_context(
                joined_over_webtransport(podium, port, api.token, room["id"])
            )
            alice, alice_client = await stack.enter_async_context(
                joined_over_webtransport(podium, port, alice_token, room["id"])
            )
            sid = await controlled(organizer, alice)
            await alice.request({"type": "control-answer", "session_id": sid, "allow": True})
            await alice.wait_event("control-started", lambda f: f["session_id"] == sid)

            for x in (0.1, 0.2, 0.3):
                moderator_client.send_numbered(move(sid, x))
            last = await alice_client.wait_datagram(lambda f: f["type"] == "control-input" and f["event"]["x"] == 0.3)
            moves = [f for f in alice_client.datagrams if f["type"] == "control-input"]
            assert [f["seq"] for f in moves] == [1, 2, 3] and last["session_id"] == sid
            # a press stays ordered: the moderator sends it on the stream, and so it reaches her
            press = {"type": "control-event", "session_id": sid, "event": {"kind": "pointerdown", "x": 0.3, "y": 0.5}}
            assert (await organizer.request(press))["seq"] == 4
            frame = await alice.wait_event("control-input")
            assert frame["seq"] == 4 and frame["event"]["kind"] == "pointerdown"
            assert [f["seq"] for f in alice.events if f.get("type") == "control-input"] == [4]  # moves: datagrams only
            # a late move (a number already passed) is dropped before the rules; the next goes on
            moderator_client.send_numbered(move(sid, 0.9), 2)
            moderator_client.send_numbered(move(sid, 0.5))
            await alice_client.wait_datagram(lambda f: f["type"] == "control-input" and f["event"]["x"] == 0.5)
            assert [f["seq"] for f in alice_client.datagrams if f["type"] == "control-input"] == [1, 2, 3, 5]
            assert (await dropped_reach(podium, {"stale": 1}))["stale"] == 1
            # Alice's own datagram is not the controller's input: not permitted
            alice_client.send_numbered(move(sid, 0.6))
            assert (await dropped_reach(podium, {"not_permitted": 1}))["not_permitted"] == 1
    finally:
        podium.stop()


def preview(stroke: int, *points: tuple[int, int]) -> dict:
    return {"type": "whiteboard-preview", "stroke": stroke, "color": "#1a73e8", "width": 4, "points": list(points)}


async def test_whiteboard_previews_reach_those_who_draw_over_webtransport(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium, port = start(tmp_path)
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Previews", waiting_room=True)
        people = {}
        for name in ("bob", "carol", "dave", "erin"):
            user_id, token = await api.create_user(name)
            await api.grant(room["id"], user_id)
            people[name] = token
        async with contextlib.AsyncExitStack() as stack:
            organizer, org_client = await stack.enter_async_context(
                joined_over_webtransport(podium, port, api.token, room["id"])
            )
            joined = {}
            for name in ("bob", "carol", "erin"):  # over WebTransport
                joined[name] = await stack.enter_async_context(
                    joined_over_webtransport(podium, port, people[name], room["id"])
                )
            dave = await Participant.join(podium, people["dave"], room["id"])  # over a WebSocket
            stack.push_async_callback(dave.close)
            (bob, bob_client), (carol, carol_client), (erin, erin_client) = (
                joined[n] for n in ("bob", "carol", "erin")
            )
            for person in (bob, carol, dave):  # Erin stays in the waiting room
                await organizer.moderate("admit", target=person.id)
            await organizer.moderate("revoke_permission", target=carol.id, capability="whiteboard")

            org_client.send_numbered(preview(1, (10, 10), (20, 25)))
            org_client.send_numbered(preview(1, (10, 10), (20, 25), (40, 30)))
            got = await bob_client.wait_datagram(lambda f: f["type"] == "whiteboard-preview" and len(f["points"]) == 3)
            assert got == {"type": "whiteboard-preview", "author": organizer.id, "n": 2, "stroke": 1,
                           "color": "#1a73e8", "width": 4, "points": [[10, 10], [20, 25], [40, 30]]}  # fmt: skip
            # the committed stroke: ordered, stored, on the stream to everyone admitted
            stroke = {"kind": "stroke", "color": "#1a73e8", "width": 4, "points": [[10, 10], [20, 25], [40, 30]]}
            op = await organizer.request({"type": "whiteboard", "op": stroke})
            for person in (bob, carol, dave):
                await person.wait_event("whiteboard-op", lambda f: f["op"]["author"] == organizer.id)
            assert op["type"] == "ok"
            # Bob previews too; the organizer receives his, Carol (no right) may not send
            bob_client.send_numbered(preview(1, (100, 100)))
            await org_client.wait_datagram(lambda f: f["type"] == "whiteboard-preview" and f["author"] == bob.id)
            carol_client.send_numbered(preview(1, (5, 5)))
            await dropped_reach(podium, {"not_permitted": 1})
            # over the rate: a burst of previews, some dropped
            for i in range(60):
                org_client.send_numbered(preview(2, (50, 50 + i)))
            counts = await dropped_reach(podium, {"rate_limited": 1})
            assert counts["rate_limited"] >= 1 and counts["not_permitted"] == 1
            await bob_client.wait_datagram(lambda f: f["type"] == "whiteboard-preview" and f["stroke"] == 2)
            await asyncio.sleep(0.3)

            previews = [f for f in bob_client.datagrams if f["type"] == "whiteboard-preview"]
            numbers = [f["n"] for f in previews if f["author"] == organizer.id]
            assert numbers == sorted(numbers) and 2 <= len(numbers) < 62  # the burst limited
            assert not [f for f in bob_client.datagrams if f["author"] == bob.id]  # never one's own
            assert not [f for f in carol_client.datagrams if f["type"] == "whiteboard-preview"]  # no right
            assert not [f for f in erin_client.datagrams if f["type"] == "whiteboard-preview"]  # waiting
            assert not [f for f in dave.events if f.get("type") == "whiteboard-preview"]  # a WebSocket
            assert not [f for f in organizer.events if f.get("type") == "error"]
    finally:
        podium.stop()


async def test_datagrams_of_no_joined_session_are_counted(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium, port = start(tmp_path)
    try:
        async with connect(
            "127.0.0.1", port, configuration=client_configuration(), create_protocol=WebTransportClient
        ) as client:
            assert isinstance(client, WebTransportClient)
            await client.open(f"127.0.0.1:{port}")
            client.send_line(json.dumps({"type": "ping", "ref": "1"}))  # the signaling stream, no join
            assert json.loads(await asyncio.wait_for(client.lines.get(), 10))["type"] == "pong"  # type: ignore[arg-type]
            client.send_numbered(preview(1, (1, 1)))  # not joined
            client.http.send_datagram(client.session_id + 4, b'{"type": "whiteboard-preview"}')  # no such session
            client.transmit()
            assert (await dropped_reach(podium, {"unknown_session": 2}))["unknown_session"] == 2
    finally:
        podium.stop()
