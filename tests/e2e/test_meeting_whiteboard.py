"""The whiteboard end to end: aiortc participants' signaling through `podium serve`, concurrent
writers ordered by the server, replay to a late joiner, a live revocation, bounds, the REST export,
and a control-plane restart that keeps the board and its sequence."""

from __future__ import annotations

import asyncio
import io
import signal

import httpx
import pytest
from harness import loopback_only
from meeting_fixtures import api, people, podium  # noqa: F401
from PIL import Image
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(90)


async def user(podium: PodiumServer, api: Api, room: dict, name: str, people: list, role: str = "participant"):
    user_id, token = await api.create_user(name)
    await api.grant(room["id"], user_id, role)
    p = await Participant.join(podium, token, room["id"])
    people.append(p)
    return token, p


def stroke(x: float, y: float, color: str = "#1060c0", n: int = 3) -> dict:
    return {"kind": "stroke", "color": color, "width": 6, "points": [[x + 10 * i, y + 5 * i] for i in range(n)]}


async def draw(p: Participant, op: dict) -> int:
    reply = await p.request({"type": "whiteboard", "op": op})
    return int(reply["seq"])


async def refused(p: Participant, frame: dict) -> str:
    with pytest.raises(SignalingError) as error:
        await p.request(frame)
    return str(error.value.code)


def seen(p: Participant) -> list[dict]:
    return [f["op"] for f in p.events if f.get("type") == "whiteboard-op"]


async def seen_until(p: Participant, seq: int) -> list[dict]:
    await p.wait_event("whiteboard-op", lambda f: f["op"]["seq"] == seq)
    return seen(p)


async def replay(p: Participant, after: int = 0) -> list[dict]:
    since = len(p.events)
    reply = await p.request({"type": "whiteboard-sync", "after": after})
    pages = [f for f in p.events[since:] if f.get("type") == "whiteboard-ops"]
    assert pages and not pages[-1]["more"] and all(page["last"] == reply["last"] for page in pages)
    return [op for page in pages for op in page["ops"]]


async def test_concurrent_writers_are_ordered_and_a_late_joiner_gets_the_same_board(podium, api, people) -> None:
    room = await api.create_room("Board")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    _, alice = await user(podium, api, room, "alice", people)
    _, bob = await user(podium, api, room, "bob", people)
    assert await replay(alice) == []

    # two writers at once, 15 strokes each, without waiting for each other
    async def writer(p: Participant, y: float) -> list[int]:
        return [await draw(p, stroke(20 + 30 * i, y)) for i in range(15)]

    mine = await asyncio.gather(writer(alice, 100), writer(bob, 400))
    assert sorted(mine[0] + mine[1]) == list(range(1, 31))  # one order, no gaps, no duplicates
    assert mine[0] == sorted(mine[0]) and mine[1] == sorted(mine[1])  # each writer's own order kept
    boards = [await seen_until(p, 30) for p in (organizer, alice, bob)]
    assert [op["seq"] for op in boards[0]] == list(range(1, 31))
    assert boards[0] == boards[1] == boards[2]  # everyone got the same operations in the same order
    assert {op["author"] for op in boards[0]} == {alice.id, bob.id}

    # shapes and text; undo takes back one's own latest; erase removes anyone's; clear is for moderators
    rect = await draw(
        alice,
        {"kind": "shape", "shape": "rect", "color": "#c02020", "width": 4, "x1": 900, "y1": 100, "x2": 1200, "y2": 300},
    )
    text = await draw(
        bob, {"kind": "text", "text": "Agenda\nitem 1", "color": "#000000", "size": 32, "x": 900, "y": 500}
    )
    undo = await alice.request({"type": "whiteboard", "op": {"kind": "undo"}})
    undone = await organizer.wait_event("whiteboard-op", lambda f: f["op"]["seq"] == undo["seq"])
    assert undone["op"] == {"seq": undo["seq"], "kind": "undo", "author": alice.id, "undoes": rect}
    erased = await draw(alice, {"kind": "erase", "targets": [mine[1][0]]})  # bob's first stroke
    assert (
        await refused(alice, {"type": "whiteboard", "op": {"kind": "erase", "targets": [rect]}}) == "invalid_argument"
    )
    assert await refused(bob, {"type": "whiteboard", "op": {"kind": "clear"}}) == "role_too_low"

    # a late joiner replays the whole board and sees what the others saw
    _, carol = await user(podium, api, room, "carol", people)
    everything = await seen_until(organizer, erased)
    assert await replay(carol) == everything
    assert await replay(carol, after=text) == [op for op in everything if op["seq"] > text]
    # what the board shows: bob's text, every stroke but bob's first, not alice's (undone) rectangle
    meeting_id = organizer.joined["meeting_id"]
    exported = await api.call("GET", f"/meetings/{meeting_id}/whiteboard")
    assert exported["ops"] == everything and (exported["width"], exported["height"]) == (1600, 900)
    async with httpx.AsyncClient(base_url=podium.url, headers={"Authorization": f"Bearer {api.token}"}) as client:
        svg = (await client.get(f"/api/v1/meetings/{meeting_id}/whiteboard.svg")).text
        png = await client.get(f"/api/v1/meetings/{meeting_id}/whiteboard.png", params={"scale": 0.5})
    assert svg.startswith("<svg") and f'data-seq="{text}"' in svg and "Agenda" in svg
    assert f'data-seq="{rect}"' not in svg and f'data-seq="{mine[1][0]}"' not in svg
    assert svg.count("<polyline") == 29
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content)).convert("RGB")
    assert image.size == (800, 450)
    assert image.getpixel((10, 50)) == (0x10, 0x60, 0xC0)  # alice's first stroke starts at (20, 100)
    assert image.getpixel((550, 75)) == (255, 255, 255)  # the undone rectangle is not drawn

    # the organizer clears; only what comes after counts, and the clear cannot be undone
    cleared = await draw(organizer, {"kind": "clear"})
    assert await refused(alice, {"type": "whiteboard", "op": {"kind": "undo"}}) == "nothing_to_undo"
    await carol.wait_event("whiteboard-op", lambda f: f["op"]["seq"] == cleared)
    async with httpx.AsyncClient(base_url=podium.url, headers={"Authorization": f"Bearer {api.token}"}) as client:
        svg = (await client.get(f"/api/v1/meetings/{meeting_id}/whiteboard.svg")).text
    assert "data-seq" not in svg
    audit = await api.call("GET", "/audit-events?action=whiteboard.cleared")
    assert audit["items"][0]["target_id"] == meeting_id and audit["items"][0]["after"]["seq"] == cleared


async def test_revoked_whiteboard_right_stops_drawing_at_once_and_bounds_hold(podium, api, people) -> None:
    room = await api.create_room("Board rights")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    _, bob = await user(podium, api, room, "bob", people)
    assert "whiteboard" in bob.joined["you"]["capabilities"]
    await draw(bob, stroke(10, 10))

    # the revocation's reply comes once it holds: bob's very next operation is refused, nothing is sent
    await organizer.moderate("revoke_permission", target=bob.id, capability="whiteboard")
    assert await refused(bob, {"type": "whiteboard", "op": stroke(50, 50)}) == "permission_missing"
    changed = await bob.wait_event("permission-changed", lambda f: f["capability"] == "whiteboard")
    assert changed["held"] is False
    assert [op["seq"] for op in seen(organizer)] == [1]
    assert len(await replay(bob)) == 1  # seeing the board is never restricted
    await organizer.moderate("grant_permission", target=bob.id, capability="whiteboard")
    assert await draw(bob, stroke(60, 60)) == 2

    # bounds, each with its code, nothing stored
    too_long = {"kind": "stroke", "color": "#000000", "width": 4, "points": [[1, 1]] * 1001}
    assert await refused(bob, {"type": "whiteboard", "op": too_long}) == "whiteboard_op_too_large"
    text = {"kind": "text", "text": "x" * 501, "color": "#000000", "size": 20, "x": 1, "y": 1}
    assert await refused(bob, {"type": "whiteboard", "op": text}) == "whiteboard_op_too_large"
    off = {"kind": "stroke", "color": "#000000", "width": 4, "points": [[1700, 1]]}
    assert await refused(bob, {"type": "whiteboard", "op": off}) == "invalid_argument"
    assert await refused(bob, {"type": "whiteboard", "op": {**stroke(1, 1), "color": "red"}}) == "invalid_argument"
    assert await refused(bob, {"type": "whiteboard", "op": {"kind": "scribble"}}) == "invalid"
    # at most 20 operations per person per second
    results = await asyncio.gather(
        *(bob.request({"type": "whiteboard", "op": stroke(5 * i, 5)}) for i in range(30)), return_exceptions=True
    )
    codes = [r.code for r in results if isinstance(r, SignalingError)]
    assert codes and set(codes) == {"rate_limited"} and 30 - len(codes) <= 20
    replayed = await replay(organizer)
    assert [op["seq"] for op in replayed] == list(range(1, len(replayed) + 1))
    assert len(replayed) == 2 + (30 - len(codes))


async def test_the_board_and_its_sequence_survive_a_control_plane_restart(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    data = tmp_path / "podium"
    podium = PodiumServer.start(data)
    organizer = None
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Kept board")
        organizer = await Participant.join(podium, api.token, room["id"])
        for i in range(3):
            await draw(organizer, stroke(100 + 50 * i, 100))
        before = await replay(organizer)

        podium.process.send_signal(signal.SIGTERM)
        podium.process.wait(30)
        podium = PodiumServer.start(data, port=podium.port, bootstrap=False)
        await organizer.resume(api.token, room["id"], keep_media=True)
        assert await replay(organizer) == before
        assert await draw(organizer, stroke(400, 400)) == 4
    finally:
        if organizer is not None:
            await organizer.close()
        podium.stop()
