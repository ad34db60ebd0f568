"""Active speaker end to end: two aiortc publishers whose microphones play tones of different
loudness (aiortc writes each frame's RFC 6464 level); every participant is told, as
`active-speaker`, the louder one within a bounded time, follows it when the loudness swaps, and
never a muted microphone."""

from __future__ import annotations

import pytest
from media import ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Api, Participant, PodiumServer

pytestmark = pytest.mark.timeout(90)

LOUD = 0.5  # about -9 dBov
QUIET = 0.0005  # about -69 dBov: below what counts as speech
FOLLOWS = 5.0  # the bounded time to follow a change (decisions every 200 ms, a 1 s long window)


async def meeting(podium: PodiumServer, api: Api, people: list) -> tuple[Participant, ...]:
    room = await api.create_room("Speakers")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    joined = [organizer]
    for name in ("alice", "bob"):
        user_id, token = await api.create_user(name)
        await api.grant(room["id"], user_id)
        joined.append(await Participant.join(podium, token, room["id"]))
        people.append(joined[-1])
    return tuple(joined)


def speaker_is(who: str | None):
    return lambda frame: frame == {"type": "active-speaker", "participant": who}


async def test_active_speaker_follows_the_louder_and_never_a_muted_microphone(podium, api, people) -> None:
    organizer, alice, bob = await meeting(podium, api, people)
    alice_tone, bob_tone = ToneAudioTrack(440, LOUD), ToneAudioTrack(660, QUIET)
    await alice.publish(microphone=alice_tone)
    await bob.publish(microphone=bob_tone)
    assert await organizer.frames_grow(alice.id, "microphone")
    assert await organizer.frames_grow(bob.id, "microphone")

    # alice is louder: everyone is told
    for p in (organizer, alice, bob):
        await p.wait_event("active-speaker", speaker_is(alice.id), timeout=FOLLOWS)

    # the loudness swaps: bob takes over
    since = {p: len(p.events) for p in (organizer, alice, bob)}
    alice_tone.amplitude, bob_tone.amplitude = QUIET, LOUD
    for p in (organizer, alice, bob):
        await p.wait_event("active-speaker", speaker_is(bob.id), timeout=FOLLOWS, since=since[p])

    # bob mutes while louder than alice: his microphone's gate closes, so he is no longer the
    # speaker, and alice, quiet, is not either
    since_mute = len(organizer.events)
    await bob.request({"type": "set-source", "source": "microphone", "on": False})
    await organizer.wait_event("active-speaker", speaker_is(None), timeout=FOLLOWS, since=since_mute)
    alice_tone.amplitude = LOUD
    await organizer.wait_event("active-speaker", speaker_is(alice.id), timeout=FOLLOWS, since=since_mute)
    told = [f["participant"] for f in organizer.events[since_mute:] if f.get("type") == "active-speaker"]
    assert bob.id not in told
