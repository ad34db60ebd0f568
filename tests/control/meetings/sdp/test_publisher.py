"""Answering a publisher: the answer to Chrome and aiortc offers, and the operations it implies."""

from __future__ import annotations

import pytest
from aiortc import RTCSessionDescription
from aiortc.sdp import SessionDescription as AiortcSessionDescription
from sdp_offers import CHROME_OFFER, FINGERPRINT, LOCAL, aiortc_offer

from control.meetings.sdp import (
    URI_ABS_SEND_TIME,
    URI_AUDIO_LEVEL,
    URI_MID,
    Candidate,
    CodecParameters,
    ConnectWebRtcTransport,
    CreateWebRtcTransport,
    Encoding,
    Group,
    HeaderExtensionIds,
    Produce,
    Rid,
    SdpError,
    SessionDescription,
    Simulcast,
    SsrcAttribute,
    SsrcGroup,
    TransportParameters,
    answer_offer,
)


def test_answer_round_trips_exactly():
    answer = answer_offer(CHROME_OFFER, LOCAL, session_id=1).answer
    assert SessionDescription.parse(answer).serialize() == answer
    assert answer.endswith("\r\n") and "\n" not in answer.replace("\r\n", "")


def test_chrome_simulcast_offer_operations():
    result = answer_offer(CHROME_OFFER, LOCAL)
    create, connect, audio, video = result.operations
    assert create == CreateWebRtcTransport("podm", "podiumpasswordpodium0000")
    assert connect == ConnectWebRtcTransport(
        dtls_role="server",
        remote_fingerprints=(
            (
                "sha-256",
                "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
            ),
        ),
        remote_ice_ufrag="4ZcD",
        remote_ice_pwd="2/1muCWoOi3uLifh0NuRHlWH",
    )
    assert audio == Produce(
        mid="0",
        kind="audio",
        codecs=(
            # transport-cc is not negotiated with publishers (publisher.NOT_FROM_PUBLISHERS)
            CodecParameters(111, "audio/opus", 48000, 2, (("minptime", "10"), ("useinbandfec", "1")), ()),
        ),
        encodings=(Encoding(ssrc=3735928559),),
        header_extensions=HeaderExtensionIds(mid=4, abs_send_time=2, audio_level=1),
        cname="p0Hq8mVf3tZy1c2L",
        stream_id="5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41",
        track_id="1f0ad2e2-5b36-4d0b-9a57-3c1f2b6a9d10",
    )
    assert video.mid == "1" and video.kind == "video"
    # Browsers' simulcast: RIDs, no SSRCs; the engine learns them from the RID extension.
    assert video.encodings == (Encoding(rid="q"), Encoding(rid="h"), Encoding(rid="f"))
    assert video.header_extensions == HeaderExtensionIds(mid=4, rid=10, repaired_rid=11, abs_send_time=2)
    assert video.cname is None and video.track_id == "9d3c1b7e-2a4f-4c8e-b6d5-0e1f2a3b4c5d"
    by_pt = {(c.payload_type, c.mime_type, c.rtx_payload_type) for c in video.codecs}
    assert by_pt == {
        (96, "video/VP8", 97),
        (98, "video/VP9", 99),
        (100, "video/VP9", 101),
        (102, "video/H264", 103),
        (106, "video/H264", 107),
        (127, "video/H264", 125),
        (45, "video/AV1", 46),
        (112, "video/H264", 113),
    }
    assert [c.payload_type for c in video.codecs][:2] == [96, 98]  # the sender's order
    vp8 = video.codecs[0]
    assert vp8.rtcp_feedback == ("goog-remb", "ccm fir", "nack", "nack pli")


def test_chrome_simulcast_answer():
    answer = SessionDescription.parse(answer_offer(CHROME_OFFER, LOCAL).answer)
    assert answer.ice_lite
    assert answer.groups == [Group("BUNDLE", ["0", "1"])]
    assert answer.extmap_allow_mixed
    audio, video, data = answer.media
    for media in (audio, video):
        assert media.ice_ufrag == "podm" and media.ice_pwd == "podiumpasswordpodium0000"
        assert media.fingerprints == [FINGERPRINT]
        assert media.setup == "passive"  # the offer was actpass: we are the DTLS server
        assert media.rtcp_mux and media.rtcp_rsize
        assert media.direction == "recvonly"
        assert media.candidates == [Candidate("udpcandidate0", 1, "udp", 2130706431, "127.0.0.1", 40000, "host")]
        assert media.end_of_candidates
        assert (media.port, media.connection) == (40000, "IN IP4 127.0.0.1")
    assert audio.formats == ["111"]
    assert [e.uri for e in audio.extmaps] == [URI_AUDIO_LEVEL, URI_ABS_SEND_TIME, URI_MID]  # no transport-cc
    assert [e.id for e in video.extmaps] == [2, 4, 10, 11]  # no toffset, orientation, timing, transport-cc...
    assert video.formats == [
        "96",
        "97",
        "98",
        "99",
        "100",
        "101",
        "102",
        "103",
        "106",
        "107",
        "127",
        "125",
        "45",
        "46",
        "112",
        "113",
    ]
    assert video.codec(97).parameters == {"apt": "96"}
    assert video.codec(104) is None and video.codec(114) is None and video.codec(116) is None
    assert video.rids == [Rid("q", "recv"), Rid("h", "recv"), Rid("f", "recv")]
    assert video.simulcast == Simulcast("recv", [["q"], ["h"], ["f"]])
    # The data channel section is rejected: port 0, no candidates, not bundled.
    assert (data.port, data.mid, data.candidates, data.codecs) == (0, "2", [], [])
    assert data.formats == ["webrtc-datachannel"]


@pytest.mark.parametrize(
    "setup, role, answered",
    [("actpass", "server", "passive"), ("active", "server", "passive"), ("passive", "client", "active")],
)
def test_dtls_role_from_setup(setup, role, answered):
    offer = CHROME_OFFER.replace("a=setup:actpass", f"a=setup:{setup}")
    result = answer_offer(offer, LOCAL)
    assert result.operations[1].dtls_role == role
    assert f"a=setup:{answered}\r\n" in result.answer
    assert "a=setup:actpass" not in result.answer


def test_setup_holdconn_is_refused():
    with pytest.raises(SdpError, match="unsupported a=setup:holdconn"):
        answer_offer(CHROME_OFFER.replace("a=setup:actpass", "a=setup:holdconn"), LOCAL)


def test_ssrc_simulcast_with_rtx():
    offer = SessionDescription.parse(CHROME_OFFER)
    video = offer.media[1]
    video.rids, video.simulcast = [], None
    video.ssrc_groups = [
        SsrcGroup("SIM", [11, 22, 33]),
        SsrcGroup("FID", [11, 111]),
        SsrcGroup("FID", [22, 222]),
        SsrcGroup("FID", [33, 333]),
    ]
    video.ssrcs = [SsrcAttribute(s, "cname", "c") for s in (11, 111, 22, 222, 33, 333)]
    result = answer_offer(offer, LOCAL)
    produce = result.operations[3]
    assert produce.encodings == (
        Encoding(ssrc=11, rtx_ssrc=111),
        Encoding(ssrc=22, rtx_ssrc=222),
        Encoding(ssrc=33, rtx_ssrc=333),
    )
    assert produce.cname == "c"
    assert "a=simulcast" not in result.answer and "a=rid" not in result.answer


def test_no_ssrc_no_rid_is_learned_from_mid():
    offer = SessionDescription.parse(CHROME_OFFER)
    offer.media[0].ssrcs = []
    assert answer_offer(offer, LOCAL).operations[2].encodings == (Encoding(),)


def test_unsupported_section_is_rejected_but_others_answered():
    offer = SessionDescription.parse(CHROME_OFFER)
    audio = offer.media[0]
    audio.codecs = [c for c in audio.codecs if c.name != "opus"]
    audio.formats = [f for f in audio.formats if f != "111"]
    result = answer_offer(offer, LOCAL)
    answer = SessionDescription.parse(result.answer)
    assert answer.media[0].port == 0 and answer.media[0].direction == "inactive"
    assert answer.groups == [Group("BUNDLE", ["1"])]
    assert [op.mid for op in result.operations if isinstance(op, Produce)] == ["1"]


def test_section_without_rtcp_mux_is_rejected():
    offer = SessionDescription.parse(CHROME_OFFER)
    offer.media[0].rtcp_mux = False
    answer = SessionDescription.parse(answer_offer(offer, LOCAL).answer)
    assert answer.media[0].port == 0


def test_recvonly_section_is_inactive():
    offer = SessionDescription.parse(CHROME_OFFER)
    offer.media[0].direction = "recvonly"
    result = answer_offer(offer, LOCAL)
    assert SessionDescription.parse(result.answer).media[0].direction == "inactive"
    assert [op.mid for op in result.operations if isinstance(op, Produce)] == ["1"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: setattr(s.media[0], "mid", None), "has no a=mid"),
        (lambda s: [setattr(m, "fingerprints", []) for m in s.media], "no DTLS fingerprint"),
        (lambda s: [setattr(m, "ice_pwd", None) for m in s.media], "no ICE credentials"),
        (lambda s: setattr(s, "groups", []), "does not BUNDLE"),
        (lambda s: setattr(s.media[1], "ice_ufrag", "else"), "does not share the BUNDLE transport"),
        (lambda s: setattr(s, "media", s.media[2:]), "no media section Podium can receive"),
        (lambda s: setattr(s, "media", []), "offer has no media section"),
    ],
)
def test_offer_errors(mutate, message):
    offer = SessionDescription.parse(CHROME_OFFER)
    mutate(offer)
    with pytest.raises(SdpError, match=message):
        answer_offer(offer, LOCAL)


def test_session_level_ice_and_fingerprint_are_inherited():
    offer = SessionDescription.parse(CHROME_OFFER)
    offer.ice_ufrag, offer.ice_pwd = "sess", "sessionpasswordsession00"
    offer.fingerprints, offer.setup = [("sha-256", "BB:" * 31 + "BB")], "actpass"
    for media in offer.media:
        media.ice_ufrag = media.ice_pwd = media.setup = None
        media.fingerprints = []
    connect = answer_offer(offer.serialize(), LOCAL).operations[1]
    assert (connect.remote_ice_ufrag, connect.remote_fingerprints[0][1]) == ("sess", "BB:" * 31 + "BB")


def test_ipv6_candidate():
    local = TransportParameters(
        "podm", "podiumpasswordpodium0000", [FINGERPRINT], [("2001:db8::7", 40000), ("192.0.2.7", 40000)]
    )
    answer = SessionDescription.parse(answer_offer(CHROME_OFFER, local).answer)
    media = answer.media[0]
    assert media.connection == "IN IP6 2001:db8::7"
    assert [(c.host, c.port) for c in media.candidates] == [("2001:db8::7", 40000), ("192.0.2.7", 40000)]
    assert media.candidates[0].priority > media.candidates[1].priority


async def test_aiortc_accepts_our_answer(loopback_only):
    pc, offer = await aiortc_offer("audio", "video")
    try:
        await pc.setLocalDescription(RTCSessionDescription(offer, "offer"))
        result = answer_offer(pc.localDescription.sdp, LOCAL)
        await pc.setRemoteDescription(RTCSessionDescription(result.answer, "answer"))
        assert pc.signalingState == "stable"
        audio, video = pc.getTransceivers()
        assert audio.currentDirection == "sendonly" and video.currentDirection == "sendonly"
        # aiortc's own parser reads what we meant.
        theirs = AiortcSessionDescription.parse(result.answer)
        assert theirs.media[1].ice.usernameFragment == "podm"
        assert theirs.media[1].dtls.role == "server"
        assert [c.payloadType for c in theirs.media[0].rtp.codecs] == [96]
        produce_audio, produce_video = result.operations[2:]
        assert produce_audio.encodings[0].ssrc == audio.sender._ssrc
        assert produce_video.encodings[0] == Encoding(ssrc=video.sender._ssrc, rtx_ssrc=video.sender._rtx_ssrc)
    finally:
        await pc.close()
