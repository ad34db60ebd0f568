"""Offering to a subscriber, and checking its answer (aiortc answers our offer)."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from sdp_offers import LOCAL, no_stun_servers

from control.meetings.sdp import (
    URI_ABS_SEND_TIME,
    URI_AUDIO_LEVEL,
    URI_TRANSPORT_CC,
    CodecParameters,
    ConnectWebRtcTransport,
    ConsumerDescription,
    Group,
    SdpError,
    SessionDescription,
    SsrcGroup,
    build_subscriber_offer,
    parse_subscriber_answer,
)

OPUS = CodecParameters(100, "audio/opus", 48000, 2, (("minptime", "10"), ("useinbandfec", "1")), ("transport-cc",))
VP8 = CodecParameters(
    101, "video/VP8", 90000, None, (), ("nack", "nack pli", "ccm fir", "goog-remb"), rtx_payload_type=102
)
CONSUMERS = [
    ConsumerDescription("0", "audio", 1111, OPUS, "alice", "stream-alice", "mic-alice"),
    ConsumerDescription("1", "video", 2222, VP8, "alice", "stream-alice", "cam-alice", rtx_ssrc=3333),
    ConsumerDescription("2", "video", 4444, VP8, "bob", "stream-bob", "cam-bob", rtx_ssrc=5555, active=False),
]


def test_subscriber_offer_contents():
    offer_text = build_subscriber_offer(CONSUMERS, LOCAL, session_id=7, version=3)
    offer = SessionDescription.parse(offer_text)
    assert offer.serialize() == offer_text
    assert offer.origin == "podium 7 3 IN IP4 0.0.0.0"
    assert offer.ice_lite
    assert offer.groups == [Group("BUNDLE", ["0", "1"])]
    audio, video, closed = offer.media
    assert audio.direction == video.direction == "sendonly"
    assert audio.setup == video.setup == "actpass"
    assert audio.formats == ["100"] and video.formats == ["101", "102"]
    assert video.codec(102).parameters == {"apt": "101"}
    assert video.ssrc_groups == [SsrcGroup("FID", [2222, 3333])]
    assert video.ssrc_attribute(3333, "cname") == "alice"
    assert audio.msid == ["stream-alice mic-alice"]
    # no sdes:mid: forwarded packets carry their publisher's MID, so subscribers demultiplex by SSRC
    assert [e.uri for e in audio.extmaps] == [URI_ABS_SEND_TIME, URI_TRANSPORT_CC, URI_AUDIO_LEVEL]
    assert [e.uri for e in video.extmaps] == [URI_ABS_SEND_TIME, URI_TRANSPORT_CC]
    assert (closed.port, closed.direction, closed.mid) == (0, "inactive", "2")


def test_subscriber_offer_needs_an_active_consumer():
    with pytest.raises(SdpError, match="at least one consumer"):
        build_subscriber_offer([], LOCAL)
    with pytest.raises(SdpError, match="at least one active consumer"):
        build_subscriber_offer(CONSUMERS[2:], LOCAL)


async def test_aiortc_answers_subscriber_offer():
    offer = build_subscriber_offer(CONSUMERS, LOCAL)
    pc = RTCPeerConnection(no_stun_servers())
    try:
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        answer = await pc.createAnswer()  # no gathering, no I/O
        result = parse_subscriber_answer(answer.sdp, offer)
        assert result.connect.dtls_role == "server"  # aiortc answers a=setup:active
        assert (
            result.connect.remote_ice_ufrag
            == pc.getTransceivers()[0].receiver.transport.transport.iceGatherer.getLocalParameters().usernameFragment
        )
        assert [f[0] for f in result.connect.remote_fingerprints][:1] == ["sha-256"]
        assert result.accepted == ("0", "1") and result.rejected == ("2",)
        assert result.header_extensions["0"].mid is None  # not offered: subscribers demux by SSRC
        assert result.header_extensions["0"].audio_level == 4
        assert result.header_extensions["1"].abs_send_time == 2
        kinds = [t.kind for t in pc.getTransceivers()]
        assert kinds == ["audio", "video", "video"]
        answered = SessionDescription.parse(answer.sdp)
        assert answered.media[1].direction == "recvonly"
        assert [c.payload_type for c in answered.media[1].codecs] == [101, 102]
    finally:
        await pc.close()


def _subscriber_answer(offer_text: str) -> SessionDescription:
    answer = SessionDescription.parse(offer_text)
    answer.ice_lite = False
    for media in answer.media:
        if media.port:
            media.direction = "recvonly"
            media.setup = "active"
            media.ice_ufrag, media.ice_pwd = "sub1", "subscriberpasswordsub000"
            media.fingerprints = [("sha-256", "CC:" * 31 + "CC")]
            media.candidates, media.ssrcs, media.ssrc_groups = [], [], []
    return answer


def test_parse_subscriber_answer_roles_and_errors():
    offer = build_subscriber_offer(CONSUMERS, LOCAL)
    answer = _subscriber_answer(offer)
    result = parse_subscriber_answer(answer, offer)
    assert result.connect == ConnectWebRtcTransport(
        "server", (("sha-256", "CC:" * 31 + "CC"),), "sub1", "subscriberpasswordsub000"
    )

    for media in answer.media:
        media.setup = "passive" if media.port else None
    assert parse_subscriber_answer(answer, offer).connect.dtls_role == "client"

    answer.media[0].setup = "actpass"
    with pytest.raises(SdpError, match="must be active or passive"):
        parse_subscriber_answer(answer, offer)

    answer = _subscriber_answer(offer)
    answer.media[0].extmaps[0].id = 9
    with pytest.raises(SdpError, match="with id 9 not offered"):
        parse_subscriber_answer(answer, offer)

    answer = _subscriber_answer(offer)
    answer.media.pop()
    with pytest.raises(SdpError, match="do not match the offer's mids"):
        parse_subscriber_answer(answer, offer)

    answer = _subscriber_answer(offer)
    for media in answer.media:
        media.port = 0
    with pytest.raises(SdpError, match="accepts no media section"):
        parse_subscriber_answer(answer, offer)
