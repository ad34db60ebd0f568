"""Offering to a subscriber, and checking its answer (aiortc answers our offer)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from sdp_offers import LOCAL, no_stun_servers

from control.meetings.sdp import (
    URI_ABS_SEND_TIME,
    URI_AUDIO_LEVEL,
    URI_MID,
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
    assert offer.groups == [Group("BUNDLE", ["0", "1", "2"])]  # the ended one too: never rejected
    audio, video, closed = offer.media
    assert audio.direction == video.direction == "sendonly"
    assert audio.setup == video.setup == "actpass"
    assert audio.formats == ["100"] and video.formats == ["101", "102"]
    assert video.codec(102).parameters == {"apt": "101"}
    assert video.ssrc_groups == [SsrcGroup("FID", [2222, 3333])]
    assert video.ssrc_attribute(3333, "cname") == "alice"
    assert audio.msid == ["stream-alice mic-alice"]
    # sdes:mid: the engine writes each consumer's own; never RID (one stream per section)
    assert [e.uri for e in audio.extmaps] == [URI_MID, URI_ABS_SEND_TIME, URI_TRANSPORT_CC, URI_AUDIO_LEVEL]
    assert [e.uri for e in video.extmaps] == [URI_MID, URI_ABS_SEND_TIME, URI_TRANSPORT_CC]
    # transport-cc feedback asked of the browser for every codec: the engine estimates this link
    assert "transport-cc" in video.codec(101).feedback and "transport-cc" in audio.codec(100).feedback
    assert (closed.port, closed.direction, closed.mid) == (audio.port, "inactive", "2")
    assert closed.port != 0 and closed.candidates == audio.candidates
    assert (closed.ice_ufrag, closed.ice_pwd, closed.fingerprints) == (
        audio.ice_ufrag,
        audio.ice_pwd,
        audio.fingerprints,
    )
    assert closed.ssrcs == [] and closed.ssrc_groups == [] and closed.msid == [] and closed.formats == ["101"]


def test_subscriber_offer_needs_a_consumer():
    with pytest.raises(SdpError, match="at least one consumer"):
        build_subscriber_offer([], LOCAL)
    # ended consumers only: the transport stays, every section inactive and bundled
    offer = SessionDescription.parse(build_subscriber_offer(CONSUMERS[2:], LOCAL))
    assert offer.groups == [Group("BUNDLE", ["2"])] and offer.media[0].direction == "inactive"


def test_a_re_offer_after_the_first_sections_ended_keeps_the_bundle_tag():
    """Issue 10: the first sections' consumers ended (their publisher reloaded) and new ones came.
    The re-offer keeps them, inactive, first in the BUNDLE group: the group's tag, and the
    transport it names, do not move (Chromium would take a moved tag for a new transport)."""
    ended = [replace(c, active=False) for c in CONSUMERS[:2]]
    back = [
        ConsumerDescription("2", "audio", 6666, OPUS, "alice", "stream-alice2", "mic-alice2"),
        ConsumerDescription("3", "video", 7777, VP8, "alice", "stream-alice2", "cam-alice2", rtx_ssrc=8888),
    ]
    first = SessionDescription.parse(build_subscriber_offer(CONSUMERS[:2], LOCAL, session_id=7, version=1))
    again = SessionDescription.parse(build_subscriber_offer(ended + back, LOCAL, session_id=7, version=2))
    assert first.groups[0].mids[0] == again.groups[0].mids[0] == "0"
    assert again.groups == [Group("BUNDLE", ["0", "1", "2", "3"])]
    assert all(m.port != 0 for m in again.media)
    transport = {(m.ice_ufrag, m.ice_pwd, tuple(m.fingerprints), m.setup) for m in first.media + again.media}
    assert len(transport) == 1
    assert [m.direction for m in again.media] == ["inactive", "inactive", "sendonly", "sendonly"]


async def test_aiortc_keeps_one_transport_across_re_offers_with_ended_sections():
    pc = RTCPeerConnection(no_stun_servers())
    try:
        first = build_subscriber_offer(CONSUMERS[:2], LOCAL, session_id=7, version=1)
        await pc.setRemoteDescription(RTCSessionDescription(first, "offer"))
        answer = await pc.createAnswer()
        connect = parse_subscriber_answer(answer.sdp, first).connect
        await pc.setLocalDescription(answer)
        # every consumer ended: an all-inactive re-offer still has the transport, answered as before
        ended = [replace(c, active=False) for c in CONSUMERS[:2]]
        second = build_subscriber_offer(ended, LOCAL, session_id=7, version=2)
        await pc.setRemoteDescription(RTCSessionDescription(second, "offer"))
        answer = await pc.createAnswer()
        result = parse_subscriber_answer(answer.sdp, second)
        assert result.accepted == () and result.rejected == ("0", "1") and result.connect == connect
        await pc.setLocalDescription(answer)
        # new consumers in the same slots (same mids, new SSRCs), as control.meetings.media reuses them
        third = build_subscriber_offer(
            [
                replace(
                    c, ssrc=c.ssrc + 10, rtx_ssrc=c.rtx_ssrc and c.rtx_ssrc + 10, stream_id="s", track_id=f"t{c.mid}"
                )
                for c in CONSUMERS[:2]
            ],
            LOCAL,
            session_id=7,
            version=3,
        )
        await pc.setRemoteDescription(RTCSessionDescription(third, "offer"))
        answer = await pc.createAnswer()
        result = parse_subscriber_answer(answer.sdp, third)
        assert result.accepted == ("0", "1") and result.connect == connect
        assert [t.mid for t in pc.getTransceivers()] == ["0", "1"]
    finally:
        await pc.close()


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
        assert result.header_extensions["0"].mid == 1  # our ids, kept: the engine writes them
        assert result.header_extensions["0"].audio_level == 4
        assert result.header_extensions["1"].abs_send_time == 2
        # aiortc knows no transport-cc for audio: the engine is told what the transport agreed to
        agreed = result.agreed_extensions()
        assert (agreed.mid, agreed.audio_level, agreed.abs_send_time) == (1, 4, 2)
        assert agreed.rid is None and agreed.repaired_rid is None
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
        if media.direction == "sendonly":
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
        media.setup = "passive"
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
