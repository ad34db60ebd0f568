"""Publishing and subscribing through the service: the publish answer and its producers, sources
turned on unless muted, the subscribe offer/answer cycle, closing a producer."""

from __future__ import annotations

import pytest
from meeting_fakes import Socket, audio_offer, subscriber_answer

from contract.ops import CloseProducer, ResumeProducer
from control.domain.moderation import Action, Command
from control.domain.roles import Source
from control.meetings.errors import MeetingError

MIC = Source.MICROPHONE


async def admitted_pair(meetings):  # type: ignore[no-untyped-def]
    service, room = meetings.service, meetings.room["id"]
    o_socket, a_socket = Socket(), Socket()
    live, o = await service.join(meetings.admin.token, room, o_socket.link())
    _, a = await service.join(meetings.ann.token, room, a_socket.link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    return live, o, a, o_socket, a_socket


async def test_publish_answers_and_turns_the_source_on(meetings) -> None:
    service = meetings.service
    live, o, _, o_socket, a_socket = await admitted_pair(meetings)
    reply = (await service.publish(live, o, audio_offer(), {"0": MIC}, frozenset())).wire()
    assert reply["type"] == "publish-answer" and "m=audio" in reply["sdp"] and reply["ref"] is None
    assert reply["producers"] == [{"id": f"{o}.microphone.1", "mid": "0", "source": "microphone", "kind": "audio"}]
    assert MIC in live.state.get(o).sources_on
    ops = meetings.registry.batches[-1][1]
    assert [op.name for op in ops][:4] == [
        "create_router",
        "create_webrtc_transport",
        "connect_webrtc_transport",
        "set_header_extensions",
    ]
    assert ResumeProducer(f"{o}.microphone.1") in ops
    assert a_socket.of("track-published")[-1] == {
        "type": "track-published",
        "participant_id": o,
        "source": "microphone",
        "kind": "audio",
    }
    assert a_socket.of("source-changed")[-1]["on"] is True
    [offer] = a_socket.of("subscribe-offer")
    assert offer["version"] == 1 and offer["consumers"][0]["participant_id"] == o
    assert o_socket.of("track-published") == []


async def test_a_muted_source_stays_off(meetings) -> None:
    live, o, *_ = await admitted_pair(meetings)
    await meetings.service.publish(live, o, audio_offer(), {"0": MIC}, frozenset({MIC}))
    assert MIC not in live.state.get(o).sources_on
    assert live.media.peers[o].publications[MIC].paused


async def test_publish_refusals(meetings) -> None:
    service = meetings.service
    live, o, *_ = await admitted_pair(meetings)
    with pytest.raises(MeetingError) as error:
        await service.publish(live, o, audio_offer(), {"1": MIC}, frozenset())
    assert error.value.code == "invalid"
    with pytest.raises(MeetingError) as error:
        await service.publish(live, o, audio_offer(), {"0": Source.CAMERA}, frozenset())
    assert error.value.code == "invalid"
    with pytest.raises(MeetingError) as error:
        await service.publish(live, o, "v=0\r\n", {"0": MIC}, frozenset())
    assert error.value.code == "sdp"


async def test_subscribe_answer_connects_once_and_stale_answers_are_refused(meetings) -> None:
    service = meetings.service
    live, o, a, _, a_socket = await admitted_pair(meetings)
    await service.publish(live, o, audio_offer(), {"0": MIC}, frozenset())
    [offer] = a_socket.of("subscribe-offer")
    answer = subscriber_answer(offer["sdp"])
    with pytest.raises(MeetingError) as error:
        await service.subscribe_answer(live, a, offer["version"] + 1, answer)
    assert error.value.code == "stale"
    await service.subscribe_answer(live, a, offer["version"], answer)
    assert meetings.registry.batches[-1][1][0].name == "connect_webrtc_transport"
    assert live.media.peers[a].sub_connected and live.media.peers[a].pending_offer is None
    with pytest.raises(MeetingError):
        await service.subscribe_answer(live, a, offer["version"], answer)


async def test_close_producer(meetings) -> None:
    service = meetings.service
    live, o, a, _, a_socket = await admitted_pair(meetings)
    await service.publish(live, o, audio_offer(), {"0": MIC}, frozenset())
    await service.close_producer(live, o, MIC)
    assert meetings.registry.batches[-1][1] == [CloseProducer(f"{o}.microphone.1")]
    assert a_socket.of("track-unpublished")[-1] == {
        "type": "track-unpublished",
        "participant_id": o,
        "source": "microphone",
        "kind": "audio",
    }
    assert not live.media.peers[a].subscriptions[0].active
    with pytest.raises(MeetingError) as error:
        await service.close_producer(live, o, MIC)
    assert error.value.code == "invalid"
