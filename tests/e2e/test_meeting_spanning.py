"""One meeting across two workers of `podium serve --workers 2 --worker-capacity 2`: the third
participant spills onto the second worker, producers are piped between the workers (plain RTP, as
on one host, and SRTP with the control plane's keys, as between hosts: `--pipe-srtp always`), and
every aiortc participant decodes every other; a revoke stops the source at every subscriber on both
workers; a worker of the pair killed recovers; the meeting has one active speaker, the louder of two
publishers on different workers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer, free_port
from test_meeting_active_speaker import FOLLOWS, LOUD, QUIET, speaker_is

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def podium(tmp_path, request):
    """`podium serve --workers 2 --worker-capacity 2`; the parameter: its --pipe-srtp."""
    base = free_port()
    options = ("--media-port", str(base), "--worker-capacity", "2")
    options += ("--pipe-srtp", getattr(request, "param", "between-hosts"))
    server = PodiumServer.start(tmp_path, local_workers=2, engine_grace=60, options=options)
    server.pipe_srtp = options[-1]
    try:
        yield server
    finally:
        server.stop()


async def join_three(podium: PodiumServer, api: Api, people: list[Participant]) -> tuple[dict, list[Participant]]:
    room = await api.create_room("Spanning")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    for n in (1, 2):
        user_id, token = await api.create_user(f"span-{n}")
        await api.grant(room["id"], user_id)
        people.append(await Participant.join(podium, token, room["id"]))
    for n, p in enumerate(people):
        await p.publish(microphone=ToneAudioTrack(300 + 200 * n), camera=NumberedVideoTrack())
    return room, people


async def stopped(receiver: Participant, publisher: str, source: str) -> bool:
    """Whether the track stops at the receiver: its frame count stays still for 1.5 s, within 10 s
    (frames in flight and in jitter buffers arrive late on a loaded machine)."""
    counts = [receiver.count(publisher, source)]
    for _ in range(40):
        await asyncio.sleep(0.25)
        counts.append(receiver.count(publisher, source))
        if len(counts) > 6 and counts[-7] == counts[-1]:
            return True
    print("frame counts every 0.25 s:", counts)
    return False


async def wait_objects(podium: PodiumServer, worker: str, timeout: float = 10, **counts: int) -> dict[str, float]:
    """The objects of those types the worker's desired table holds (/metrics), once they are as
    many as `counts` or `timeout` passed."""
    deadline = time.monotonic() + timeout
    held: dict[str, float] = {}
    while time.monotonic() < deadline:
        text = podium.metrics()
        held = {
            kind: float(line.rsplit(" ", 1)[1])
            for kind in counts
            for line in text.splitlines()
            if line.startswith("podium_engine_objects{") and f'worker="{worker}"' in line and f'type="{kind}"' in line
        }
        if held == {kind: float(n) for kind, n in counts.items()}:
            break
        await asyncio.sleep(0.2)
    return held


@pytest.mark.parametrize("podium", ["between-hosts", "always"], indirect=True, ids=["plain-pipes", "srtp-pipes"])
async def test_a_meeting_spanning_two_workers(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    people: list[Participant] = []
    try:
        _, people = await join_three(podium, api, people)
        meeting = await api.call("GET", f"/meetings/{people[0].joined['meeting_id']}")
        assert sorted(meeting["workers"]) == ["local", "local-2"]  # capacity 2: the third spilled

        # the pipe between the two workers: plain RTP on one host, unless --pipe-srtp always
        pipes = [line for line in podium.log.read_text().splitlines() if ": pipe to worker " in line]
        expected = "SRTP (AEAD_AES_128_GCM)" if podium.pipe_srtp == "always" else "plain RTP"
        assert len(pipes) == 2 and all(line.endswith(expected) for line in pipes), pipes
        # every participant decodes every other's microphone and camera, through pipes or not
        for receiver in people:
            for sender in people:
                if sender is not receiver:
                    for source in ("microphone", "camera"):
                        assert await receiver.frames_grow(sender.id, source, timeout=20), (
                            receiver.id,
                            sender.id,
                            source,
                        )

        # a revoke stops the source at every subscriber, on both workers
        organizer, *others = people
        spilled = people[2]
        reply = await organizer.moderate("revoke_permission", target=spilled.id, capability="microphone")
        assert reply.get("type") != "error", reply
        for receiver in (organizer, people[1]):
            assert await stopped(receiver, spilled.id, "microphone")
        await organizer.moderate("revoke_permission", target=people[1].id, capability="camera")
        for receiver in (organizer, spilled):
            assert await stopped(receiver, people[1].id, "camera")
        assert await spilled.frames_grow(organizer.id, "camera")  # the others keep flowing

        # the spilled participant leaves: the pipes to and from its worker close
        await spilled.send({"type": "leave"})
        await organizer.wait_event("participant-left", lambda f: f["participant_id"] == spilled.id)
        await spilled.close()
        people.remove(spilled)
        assert await wait_objects(podium, "local-2", producers=0, consumers=0) == {"producers": 0, "consumers": 0}
        assert await people[1].frames_grow(organizer.id, "microphone")
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()


async def test_a_worker_of_the_pair_killed_recovers(podium, monkeypatch) -> None:
    """kill -9 of the worker the meeting spilled onto: its participant moves (told to reconnect, it
    publishes again on the live worker: the supervisor is still restarting the other), the pipes to
    and from the lost worker close, and everyone else keeps their media throughout; a later arrival
    spills onto the restarted worker over new pipes."""
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    people: list[Participant] = []
    try:
        _, people = await join_three(podium, api, people)
        meeting_id = people[0].joined["meeting_id"]
        meeting = await api.call("GET", f"/meetings/{meeting_id}")
        home, spilled_to = meeting["workers"]
        organizer, second, spilled = people
        assert await organizer.frames_grow(spilled.id, "camera", timeout=20)

        os.kill(_pid_of(podium, spilled_to), signal.SIGKILL)
        await spilled.wait_reconnected(timeout=30)
        assert await organizer.frames_grow(second.id, "camera")  # on the live worker, never stopped
        for receiver in people:
            for sender in people:
                if sender is not receiver:
                    assert await receiver.frames_grow(sender.id, "microphone", timeout=20), (receiver.id, sender.id)
        assert await organizer.frames_grow(spilled.id, "camera", timeout=20)
        assert not [f for p in (organizer, second) for f in p.events if f.get("type") == "reconnect"]
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["workers"] == [home]

        await podium.wait_worker_state(spilled_to, "connected")  # restarted by the supervisor
        user_id, token = await api.create_user("span-late")
        await api.grant(meeting["room_id"], user_id)
        late = await Participant.join(podium, token, meeting["room_id"])
        people.append(late)
        await late.publish(microphone=ToneAudioTrack(1500))
        moved = await api.call("GET", f"/meetings/{meeting_id}")
        assert moved["workers"] == [home, spilled_to]  # spilled again, over new pipes both ways
        for p in people[:3]:
            assert await p.frames_grow(late.id, "microphone", timeout=20)
            assert await late.frames_grow(p.id, "microphone", timeout=20)
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()


async def test_the_active_speaker_of_a_spanning_meeting_is_the_louder_whichever_worker_it_is_on(
    podium, monkeypatch
) -> None:
    """alice on the meeting's first worker, bob spilled onto the second: each worker reports the
    levels of its own publishers, and one speaker is told to everyone (test_meeting_active_speaker:
    the loudness values and the bounded time), once per change."""
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    people: list[Participant] = []
    try:
        room = await api.create_room("Spanning speakers")
        people.append(await Participant.join(podium, api.token, room["id"]))
        for name in ("alice", "bob"):
            user_id, token = await api.create_user(name)
            await api.grant(room["id"], user_id)
            people.append(await Participant.join(podium, token, room["id"]))
        organizer, alice, bob = people
        meeting = await api.call("GET", f"/meetings/{organizer.joined['meeting_id']}")
        assert sorted(meeting["workers"]) == ["local", "local-2"]  # bob spilled
        alice_tone, bob_tone = ToneAudioTrack(440, QUIET), ToneAudioTrack(660, LOUD)
        await alice.publish(microphone=alice_tone)
        await bob.publish(microphone=bob_tone)
        assert await organizer.frames_grow(alice.id, "microphone", timeout=20)
        assert await organizer.frames_grow(bob.id, "microphone", timeout=20)

        # bob, on the second worker, is louder: everyone is told
        for p in people:
            await p.wait_event("active-speaker", speaker_is(bob.id), timeout=FOLLOWS)
        # the loudness swaps: alice, on the first worker, takes over
        since = {p: len(p.events) for p in people}
        alice_tone.amplitude, bob_tone.amplitude = LOUD, QUIET
        for p in people:
            await p.wait_event("active-speaker", speaker_is(alice.id), timeout=FOLLOWS, since=since[p])
        # and back
        since = {p: len(p.events) for p in people}
        alice_tone.amplitude, bob_tone.amplitude = QUIET, LOUD
        for p in people:
            await p.wait_event("active-speaker", speaker_is(bob.id), timeout=FOLLOWS, since=since[p])
        for p in people:  # one frame per change, never the same twice in a row
            told = [f["participant"] for f in p.events if f.get("type") == "active-speaker"]
            assert all(x != y for x, y in itertools.pairwise(told)), told
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()


def _pid_of(podium: PodiumServer, worker_id: str) -> int:
    """The pid the log last gave that local worker."""
    marker = f"engine worker {worker_id} (pid "
    lines = [line for line in podium.log.read_text().splitlines() if marker in line and "listening on" in line]
    return int(lines[-1].split(marker)[1].split(")")[0])
