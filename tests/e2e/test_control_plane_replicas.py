"""Two control-plane replicas (`podium serve` twice) on one PostgreSQL database (docs/deployment.md,
"Replicas"): a join through either lands in the same meeting, run by the replica holding its lease
(the other sends the participant there: `meeting_elsewhere`); a permission changed through one is in
force through the other within 100 ms (PostgreSQL notifications, no cache expiry); a replica killed
with SIGKILL has its meeting taken over by the other within a few seconds, and its participants
resume there."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer, SignalingError
from replica_fixtures import LEASE_TTL, replicas  # noqa: F401

pytestmark = [pytest.mark.timeout(180), pytest.mark.postgres]

TAKEOVER_WITHIN = 10.0
"""Seconds from the SIGKILL to the first participant resumed on the survivor (lease, scan, move)."""
IN_FORCE_WITHIN = 0.100
"""Seconds from a permission change through one replica to its refusal through the other."""


async def _meeting_through_both(a: PodiumServer, b: PodiumServer):  # type: ignore[no-untyped-def]
    """The organizer joins through a (a runs the meeting), bob through b (sent to a); both publish."""
    api = Api(a.url)
    await api.login_admin()
    room = await api.create_room("Replicas")
    organizer = await Participant.join(a, api.token, room["id"])
    bob_id, bob_token = await api.create_user("bob")
    await api.grant(room["id"], bob_id)
    bob = await Participant.join(b, bob_token, room["id"])
    return api, room, organizer, bob, bob_token


async def test_joins_through_either_replica_land_in_the_same_meeting(replicas) -> None:
    a, b = replicas
    people: list[Participant] = []
    try:
        api, room, organizer, bob, _ = await _meeting_through_both(a, b)
        people += [organizer, bob]
        assert organizer.url == a.ws_url
        assert bob.url == a.ws_url, "b does not run the meeting: it sent bob to a"
        assert bob.joined["meeting_id"] == organizer.joined["meeting_id"]
        await organizer.publish(microphone=ToneAudioTrack(300), camera=NumberedVideoTrack())
        await bob.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        assert await organizer.frames_grow(bob.id, "camera") and await bob.frames_grow(organizer.id, "camera")
        assert await organizer.frames_grow(bob.id, "microphone") and await bob.frames_grow(organizer.id, "microphone")

        # a join that names b's URL first, while a runs the meeting, is refused there with a's URL
        async with httpx.AsyncClient() as client:
            meeting_id = organizer.joined["meeting_id"]
            headers = {"Authorization": f"Bearer {api.token}"}
            moved = await client.get(f"{b.url}/api/v1/meetings/{meeting_id}", headers=headers)
            assert moved.status_code == 307, moved.text
            assert moved.headers["location"] == f"{a.url}/api/v1/meetings/{meeting_id}"
            assert moved.json()["error"]["code"] == "meeting_elsewhere"
            there = await client.get(moved.headers["location"], headers=headers)
            assert {p["id"] for p in there.json()["participants"]} == {organizer.id, bob.id}
            other = await client.get(f"{b.url}/api/v1/rooms/{room['id']}/meeting", headers=headers)
            assert other.status_code == 307
    finally:
        for participant in people:
            await participant.close()


async def test_a_permission_change_through_one_replica_is_in_force_through_the_other(replicas) -> None:
    a, b = replicas
    api_a = Api(a.url)
    await api_a.login_admin()
    carol_id, _ = await api_a.create_user("carol")
    await api_a.call("PUT", f"/users/{carol_id}/permissions/list_all_users")
    carol_email = (await api_a.call("GET", f"/users/{carol_id}"))["email"]
    api_b = Api(b.url)
    carol = await api_b.login(carol_email, "user-password-1")
    api_b.token = await api_b.login("admin@podium.test", "admin-password-1")

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {carol}"}) as client:

        async def through(server: PodiumServer) -> int:
            return (await client.get(f"{server.url}/api/v1/users")).status_code

        async def change_then(change: str, api: Api, server: PodiumServer, expected: int, poll: bool) -> None:
            """`change` carol's permission through one replica (`api`), with her principal cached by the
            other (`server`); then, polling, measure when the other answers `expected`, or else ask it
            once, IN_FORCE_WITHIN after the change returned, and require `expected`."""
            before = 403 if expected == 200 else 200
            assert await through(server) == before
            assert await through(server) == before  # from the other replica's cache now
            await api.call(change, f"/users/{carol_id}/permissions/list_all_users")
            changed = time.perf_counter()
            if not poll:
                await asyncio.sleep(IN_FORCE_WITHIN - (time.perf_counter() - changed))
                status = await through(server)
                assert status == expected, (
                    f"{IN_FORCE_WITHIN * 1000:.0f} ms after the {change} returned through one replica, the other "
                    f"still answers {status}: the change is not in force there within {IN_FORCE_WITHIN * 1000:.0f} ms"
                )
                return
            while True:
                sent = time.perf_counter() - changed
                status = await through(server)
                answered = time.perf_counter() - changed
                if status == expected or answered > 2:
                    break
            assert status == expected, f"after {answered * 1000:.0f} ms the other replica still answers {status}"
            print(
                f"{change} through one replica in force through the other: seen by a request sent "
                f"{sent * 1000:.1f} ms after the change returned, answered after {answered * 1000:.1f} ms"
            )

        for poll in (False, True):
            await change_then("DELETE", api_a, b, 403, poll)  # revoked through a: refused through b
            await change_then("PUT", api_b, a, 200, poll)  # granted through b: allowed through a


async def test_a_killed_replicas_meeting_is_taken_over_and_its_participants_resume(replicas) -> None:
    a, b = replicas
    people: list[Participant] = []
    try:
        api, room, organizer, bob, bob_token = await _meeting_through_both(a, b)
        people += [organizer, bob]
        meeting_id = organizer.joined["meeting_id"]
        await organizer.publish(microphone=ToneAudioTrack(300), camera=NumberedVideoTrack())
        await bob.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        assert await organizer.frames_grow(bob.id, "camera") and await bob.frames_grow(organizer.id, "camera")
        await organizer.moderate("revoke_permission", target=bob.id, capability="microphone")
        ids = (organizer.id, bob.id)

        a.process.kill()  # SIGKILL: no lease handed back, its workers die with it
        killed = time.monotonic()
        a.process.wait(10)
        # the clients come back through b (a load balancer's other target), until b runs the meeting
        resumed_after: dict[str, float] = {}
        for participant, token in ((organizer, api.token), (bob, bob_token)):
            while True:
                try:
                    reply = await participant.resume(token, room["id"], keep_media=True, url=b.ws_url, timeout=10)
                    break
                except (SignalingError, OSError, TimeoutError) as error:  # a's URL, while a's lease holds
                    assert time.monotonic() - killed < TAKEOVER_WITHIN + 20, f"never resumed: {error!r}"
                    await asyncio.sleep(0.25)
            resumed_after[participant.id] = time.monotonic() - killed
            # the meeting moved onto b's worker: new transports, the tracks published again
            assert reply["resumed"] and reply["media"] == "renew", reply
            assert reply["meeting_id"] == meeting_id
            assert participant.url == b.ws_url
        first = min(resumed_after.values())
        print(f"meeting taken over and first participant resumed {first:.2f} s after the SIGKILL")
        assert first < TAKEOVER_WITHIN, f"the takeover took {first:.1f} s (lease {LEASE_TTL} s)"
        assert (organizer.id, bob.id) == ids

        api_b = Api(b.url)
        await api_b.login_admin()
        meeting = await api_b.call("GET", f"/meetings/{meeting_id}")
        who = {p["id"]: p for p in meeting["participants"]}
        assert who[organizer.id]["role"] == "organizer" and "microphone" not in who[bob.id]["capabilities"]
        assert await bob.frames_grow(organizer.id, "camera", timeout=15)
        assert await organizer.frames_grow(bob.id, "camera", timeout=15)
        assert await bob.frames_grow(organizer.id, "microphone", timeout=15)
        with pytest.raises(httpx.ConnectError):
            await Api(a.url).call("GET", "/me")  # a is gone indeed
    finally:
        for participant in people:
            await participant.close()
