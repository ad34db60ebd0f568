"""Resuming with real aiortc peers through `podium serve` and its engine worker (docs/signaling.md,
"Resuming"): a participant whose signaling socket is cut mid-call comes back with the resume token as
the same participant, their role and a revoked microphone as they were; media is kept when their
peer connections are up, and rebuilt (`renew`) when they are new; a stale token joins a new
participant; a removed person cannot resume; a ghost leaves when the resume grace runs out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from meeting_fixtures import api, people, serve  # noqa: F401
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(90)

GRACE = 4.0
"""The resume grace of this module's server (`podium serve --resume-grace`)."""


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumServer]:
    yield from serve(tmp_path_factory, "--resume-grace", str(GRACE))


class Call:
    """The organizer (Olga) and Ann in a room without a waiting room, both publishing a microphone
    and a camera, each receiving the other's; Olga revoked Ann's microphone."""

    def __init__(self, podium: PodiumServer, api: Api, people: list[Participant]) -> None:
        self.podium, self.api, self.people = podium, api, people

    async def start(self, name: str) -> Call:
        self.room = await self.api.create_room(name)
        user_id, self.ann_token = await self.api.create_user("ann")
        self.ann_user = user_id
        await self.api.grant(self.room["id"], user_id)
        self.olga = await Participant.join(self.podium, self.api.token, self.room["id"])
        self.ann = await Participant.join(self.podium, self.ann_token, self.room["id"])
        self.people += [self.olga, self.ann]
        await self.olga.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        await self.ann.publish(microphone=ToneAudioTrack(660), camera=NumberedVideoTrack())
        for source in ("microphone", "camera"):
            assert await self.ann.frames_grow(self.olga.id, source), source
            assert await self.olga.frames_grow(self.ann.id, source), source
        await self.olga.moderate("revoke_permission", target=self.ann.id, capability="microphone")
        assert await self.olga.frames_stopped(self.ann.id, "microphone")
        return self

    def ann_left(self) -> bool:
        return any(f["type"] == "participant-left" and f["participant_id"] == self.ann.id for f in self.olga.events)

    async def media_both_ways(self, ann_id: str, receiver: Participant | None = None) -> None:
        """Olga gets Ann's camera (not her revoked microphone); Ann gets Olga's microphone and camera."""
        ann = receiver or self.ann
        assert await self.olga.frames_grow(ann_id, "camera", timeout=15), "Ann's camera → Olga"
        for source in ("microphone", "camera"):
            assert await ann.frames_grow(self.olga.id, source, timeout=15), f"Olga's {source} → Ann"
        assert await self.olga.frames_stopped(ann_id, "microphone"), "Ann's revoked microphone reached Olga"


@pytest.fixture
async def call(podium, api, people, request) -> Call:
    return await Call(podium, api, people).start(request.node.name[:40])


async def test_a_cut_socket_resumes_as_the_same_participant_with_media_kept(call: Call) -> None:
    ann, olga = call.ann, call.olga
    ann_id, token = ann.id, ann.joined["resume_token"]
    assert ann.joined["resumed"] is False and token
    await ann.cut_signaling()
    # while Ann has no socket she stays, and her camera keeps flowing
    assert await olga.frames_grow(ann_id, "camera")
    assert not call.ann_left()

    reply = await ann.resume(call.ann_token, call.room["id"], keep_media=True)
    assert (reply["participant_id"], reply["resumed"], reply["media"]) == (ann_id, True, "kept")
    assert reply["you"]["role"] == "participant" and "microphone" not in reply["you"]["capabilities"]
    assert reply["resume_token"]
    await call.media_both_ways(ann_id)
    assert not call.ann_left()
    meeting = await call.api.call("GET", f"/meetings/{olga.joined['meeting_id']}")
    assert sorted(p["id"] for p in meeting["participants"]) == sorted([olga.id, ann_id])
    # she moderates nothing more than before, and the server still answers her
    with pytest.raises(SignalingError) as refused:
        await ann.moderate("mute_all_audio")
    assert refused.value.code == "role_too_low"


async def test_a_reloaded_participant_renews_its_media_and_the_others_receive_it_again(call: Call) -> None:
    ann, olga = call.ann, call.olga
    ann_id, token = ann.id, ann.joined["resume_token"]
    await ann.drop()  # the page is gone: socket and peer connections
    reloaded = await Participant.join(call.podium, call.ann_token, call.room["id"], resume=token, keep_media=False)
    call.people.append(reloaded)
    assert (reloaded.id, reloaded.joined["resumed"], reloaded.joined["media"]) == (ann_id, True, "renew")
    assert "microphone" not in reloaded.joined["you"]["capabilities"]
    # the page publishes again on new peer connections: the revoked microphone is accepted, gated
    await reloaded.publish(microphone=ToneAudioTrack(660), camera=NumberedVideoTrack())
    await call.media_both_ways(ann_id, receiver=reloaded)
    assert not call.ann_left()
    # a moderator gives the microphone back: it flows again, from the renewed producer
    await olga.moderate("grant_permission", target=ann_id, capability="microphone")
    await reloaded.request({"type": "set-source", "source": "microphone", "on": True})
    assert await olga.frames_grow(ann_id, "microphone", timeout=15)


async def test_the_old_socket_is_replaced_by_the_resumed_one(call: Call) -> None:
    ann = call.ann
    second = await Participant.join(
        call.podium, call.ann_token, call.room["id"], resume=ann.joined["resume_token"], keep_media=False
    )
    call.people.append(second)
    assert second.id == ann.id
    assert (await ann.wait_event("disconnected"))["reason"] == "replaced"
    code, _ = await asyncio.wait_for(ann.closed, 5)
    assert code == 4010
    assert not call.ann_left()


async def test_a_stale_token_joins_a_new_participant(call: Call) -> None:
    ann = call.ann
    token = ann.joined["resume_token"]
    await ann.send({"type": "leave"})
    await call.olga.wait_event("participant-left", lambda f: f["participant_id"] == ann.id)
    again = await Participant.join(call.podium, call.ann_token, call.room["id"], resume=token, keep_media=True)
    call.people.append(again)
    assert again.id != ann.id and again.joined["resumed"] is False and "media" not in again.joined
    # (while she is connected, any join of hers takes her participant over: docs/signaling.md, "One person,
    # one participant"; so she leaves first)
    await again.send({"type": "leave"})
    await call.olga.wait_event("participant-left", lambda f: f["participant_id"] == again.id)
    forged = await Participant.join(call.podium, call.ann_token, call.room["id"], resume="x.y.z")
    call.people.append(forged)
    assert forged.id not in (ann.id, again.id) and forged.joined["resumed"] is False


async def test_a_removed_person_cannot_resume(call: Call) -> None:
    ann, olga = call.ann, call.olga
    token = ann.joined["resume_token"]
    await olga.moderate("remove_for_period", target=ann.id, seconds=600)
    assert (await ann.wait_event("disconnected"))["reason"] == "removed"
    with pytest.raises(SignalingError) as refused:
        await Participant.join(call.podium, call.ann_token, call.room["id"], resume=token, keep_media=False)
    # the removal is scoped to the room: her login still works, the resume names nobody, and the
    # join it falls back to is refused by the room's removal list
    assert refused.value.code == "removed"
    assert call.ann_left()


async def test_the_grace_runs_out_and_the_ghost_leaves(call: Call) -> None:
    ann, olga = call.ann, call.olga
    loop = asyncio.get_running_loop()
    await ann.cut_signaling()
    cut = loop.time()
    left = await olga.wait_event("participant-left", lambda f: f["participant_id"] == ann.id, timeout=GRACE + 10)
    assert left["reason"] == "left"
    assert loop.time() - cut >= GRACE - 0.5  # not at once: the grace was waited out
    # nothing to resume now: the token names nobody, and she comes back as a new participant
    again = await ann.resume(call.ann_token, call.room["id"], keep_media=True)
    assert again["participant_id"] != left["participant_id"] and again["resumed"] is False


async def test_a_guest_resumes_with_a_new_guest_token_of_the_same_invitation(podium, api, people) -> None:
    """A guest's reloaded page redeems its link again (a new guest token, the same invitee) and
    resumes as the same participant."""
    room = await api.create_room("Guest resume")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    invitation = await api.invite_guest(room["id"], "Gil")
    browser = secrets.token_hex(16)
    guest = await Participant.join(
        podium, (await api.redeem(invitation["invitation"], browser))["guest_token"], room["id"]
    )
    people.append(guest)
    await guest.publish(camera=NumberedVideoTrack())
    assert await organizer.frames_grow(guest.id, "camera")
    await guest.drop()
    again_token = (await api.redeem(invitation["invitation"], browser))["guest_token"]
    again = await Participant.join(
        podium, again_token, room["id"], resume=guest.joined["resume_token"], keep_media=False
    )
    people.append(again)
    assert (again.id, again.joined["media"]) == (guest.id, "renew")
    await again.publish(camera=NumberedVideoTrack())
    assert await organizer.frames_grow(guest.id, "camera", timeout=15)
    assert not any(f["type"] == "participant-left" for f in organizer.events)
