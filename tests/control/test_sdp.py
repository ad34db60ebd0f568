"""SDP: parse/serialize round trips, answers to Chrome and aiortc offers, subscriber offers."""

from __future__ import annotations

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import SessionDescription as AiortcSessionDescription
from hypothesis import given, settings
from hypothesis import strategies as st

from control.sdp import (
    URI_ABS_SEND_TIME,
    URI_AUDIO_LEVEL,
    URI_MID,
    URI_RID,
    URI_TRANSPORT_CC,
    Candidate,
    CodecParameters,
    ConnectWebRtcTransport,
    ConsumerDescription,
    CreateWebRtcTransport,
    Encoding,
    Group,
    HeaderExtensionIds,
    MediaSection,
    Produce,
    Rid,
    RtpCodec,
    SdpError,
    SessionDescription,
    Simulcast,
    SsrcAttribute,
    SsrcGroup,
    TransportParameters,
    answer_offer,
    build_subscriber_offer,
    negotiate_codecs,
    parse_subscriber_answer,
)

#: A Chrome offer: Opus audio, three-layer RID simulcast video with no SSRC lines, a data channel.
CHROME_OFFER = "\r\n".join(
    [
        'v=0',
        'o=- 4215775240449105457 2 IN IP4 127.0.0.1',
        's=-',
        't=0 0',
        'a=group:BUNDLE 0 1 2',
        'a=extmap-allow-mixed',
        'a=msid-semantic: WMS 5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41',
        'm=audio 46243 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
        'c=IN IP4 127.0.0.1',
        'a=rtcp:9 IN IP4 0.0.0.0',
        'a=candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1',
        'a=candidate:1467250027 2 udp 2122260222 127.0.0.1 47561 typ host generation 0 network-id 1',
        'a=ice-ufrag:4ZcD',
        'a=ice-pwd:2/1muCWoOi3uLifh0NuRHlWH',
        'a=ice-options:trickle',
        'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
        'a=setup:actpass',
        'a=mid:0',
        'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
        'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
        'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
        'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
        'a=sendonly',
        'a=msid:5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41 1f0ad2e2-5b36-4d0b-9a57-3c1f2b6a9d10',
        'a=rtcp-mux',
        'a=rtcp-rsize',
        'a=rtpmap:111 opus/48000/2',
        'a=rtcp-fb:111 transport-cc',
        'a=fmtp:111 minptime=10;useinbandfec=1',
        'a=rtpmap:63 red/48000/2',
        'a=fmtp:63 111/111',
        'a=rtpmap:9 G722/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:13 CN/8000',
        'a=rtpmap:110 telephone-event/48000',
        'a=rtpmap:126 telephone-event/8000',
        'a=ssrc:3735928559 cname:p0Hq8mVf3tZy1c2L',
        'a=ssrc:3735928559 msid:5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41 1f0ad2e2-5b36-4d0b-9a57-3c1f2b6a9d10',
        'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 105 106 107 108 109 127 125 39 40 45 46 112 113 114 115 116',
        'c=IN IP4 0.0.0.0',
        'a=rtcp:9 IN IP4 0.0.0.0',
        'a=ice-ufrag:4ZcD',
        'a=ice-pwd:2/1muCWoOi3uLifh0NuRHlWH',
        'a=ice-options:trickle',
        'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
        'a=setup:actpass',
        'a=mid:1',
        'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
        'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
        'a=extmap:13 urn:3gpp:video-orientation',
        'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
        'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
        'a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
        'a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing',
        'a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space',
        'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
        'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
        'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
        'a=sendonly',
        'a=msid:5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41 9d3c1b7e-2a4f-4c8e-b6d5-0e1f2a3b4c5d',
        'a=rtcp-mux',
        'a=rtcp-rsize',
        'a=rtpmap:96 VP8/90000',
        'a=rtcp-fb:96 goog-remb',
        'a=rtcp-fb:96 transport-cc',
        'a=rtcp-fb:96 ccm fir',
        'a=rtcp-fb:96 nack',
        'a=rtcp-fb:96 nack pli',
        'a=rtpmap:97 rtx/90000',
        'a=fmtp:97 apt=96',
        'a=rtpmap:98 VP9/90000',
        'a=rtcp-fb:98 goog-remb',
        'a=rtcp-fb:98 transport-cc',
        'a=rtcp-fb:98 ccm fir',
        'a=rtcp-fb:98 nack',
        'a=rtcp-fb:98 nack pli',
        'a=fmtp:98 profile-id=0',
        'a=rtpmap:99 rtx/90000',
        'a=fmtp:99 apt=98',
        'a=rtpmap:100 VP9/90000',
        'a=rtcp-fb:100 goog-remb',
        'a=rtcp-fb:100 transport-cc',
        'a=rtcp-fb:100 ccm fir',
        'a=rtcp-fb:100 nack',
        'a=rtcp-fb:100 nack pli',
        'a=fmtp:100 profile-id=2',
        'a=rtpmap:101 rtx/90000',
        'a=fmtp:101 apt=100',
        'a=rtpmap:35 VP9/90000',
        'a=rtcp-fb:35 goog-remb',
        'a=rtcp-fb:35 transport-cc',
        'a=rtcp-fb:35 ccm fir',
        'a=rtcp-fb:35 nack',
        'a=rtcp-fb:35 nack pli',
        'a=fmtp:35 profile-id=1',
        'a=rtpmap:36 rtx/90000',
        'a=fmtp:36 apt=35',
        'a=rtpmap:37 VP9/90000',
        'a=rtcp-fb:37 goog-remb',
        'a=rtcp-fb:37 transport-cc',
        'a=rtcp-fb:37 ccm fir',
        'a=rtcp-fb:37 nack',
        'a=rtcp-fb:37 nack pli',
        'a=fmtp:37 profile-id=3',
        'a=rtpmap:38 rtx/90000',
        'a=fmtp:38 apt=37',
        'a=rtpmap:102 H264/90000',
        'a=rtcp-fb:102 goog-remb',
        'a=rtcp-fb:102 transport-cc',
        'a=rtcp-fb:102 ccm fir',
        'a=rtcp-fb:102 nack',
        'a=rtcp-fb:102 nack pli',
        'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
        'a=rtpmap:103 rtx/90000',
        'a=fmtp:103 apt=102',
        'a=rtpmap:104 H264/90000',
        'a=rtcp-fb:104 goog-remb',
        'a=rtcp-fb:104 transport-cc',
        'a=rtcp-fb:104 ccm fir',
        'a=rtcp-fb:104 nack',
        'a=rtcp-fb:104 nack pli',
        'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
        'a=rtpmap:105 rtx/90000',
        'a=fmtp:105 apt=104',
        'a=rtpmap:106 H264/90000',
        'a=rtcp-fb:106 goog-remb',
        'a=rtcp-fb:106 transport-cc',
        'a=rtcp-fb:106 ccm fir',
        'a=rtcp-fb:106 nack',
        'a=rtcp-fb:106 nack pli',
        'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        'a=rtpmap:107 rtx/90000',
        'a=fmtp:107 apt=106',
        'a=rtpmap:108 H264/90000',
        'a=rtcp-fb:108 goog-remb',
        'a=rtcp-fb:108 transport-cc',
        'a=rtcp-fb:108 ccm fir',
        'a=rtcp-fb:108 nack',
        'a=rtcp-fb:108 nack pli',
        'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
        'a=rtpmap:109 rtx/90000',
        'a=fmtp:109 apt=108',
        'a=rtpmap:127 H264/90000',
        'a=rtcp-fb:127 goog-remb',
        'a=rtcp-fb:127 transport-cc',
        'a=rtcp-fb:127 ccm fir',
        'a=rtcp-fb:127 nack',
        'a=rtcp-fb:127 nack pli',
        'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
        'a=rtpmap:125 rtx/90000',
        'a=fmtp:125 apt=127',
        'a=rtpmap:39 H264/90000',
        'a=rtcp-fb:39 goog-remb',
        'a=rtcp-fb:39 transport-cc',
        'a=rtcp-fb:39 ccm fir',
        'a=rtcp-fb:39 nack',
        'a=rtcp-fb:39 nack pli',
        'a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f',
        'a=rtpmap:40 rtx/90000',
        'a=fmtp:40 apt=39',
        'a=rtpmap:45 AV1/90000',
        'a=rtcp-fb:45 goog-remb',
        'a=rtcp-fb:45 transport-cc',
        'a=rtcp-fb:45 ccm fir',
        'a=rtcp-fb:45 nack',
        'a=rtcp-fb:45 nack pli',
        'a=fmtp:45 level-idx=5;profile=0;tier=0',
        'a=rtpmap:46 rtx/90000',
        'a=fmtp:46 apt=45',
        'a=rtpmap:112 H264/90000',
        'a=rtcp-fb:112 goog-remb',
        'a=rtcp-fb:112 transport-cc',
        'a=rtcp-fb:112 ccm fir',
        'a=rtcp-fb:112 nack',
        'a=rtcp-fb:112 nack pli',
        'a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f',
        'a=rtpmap:113 rtx/90000',
        'a=fmtp:113 apt=112',
        'a=rtpmap:114 red/90000',
        'a=rtpmap:115 rtx/90000',
        'a=fmtp:115 apt=114',
        'a=rtpmap:116 ulpfec/90000',
        'a=rid:q send',
        'a=rid:h send',
        'a=rid:f send',
        'a=simulcast:send q;h;f',
        'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
        'c=IN IP4 0.0.0.0',
        'a=ice-ufrag:4ZcD',
        'a=ice-pwd:2/1muCWoOi3uLifh0NuRHlWH',
        'a=ice-options:trickle',
        'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
        'a=setup:actpass',
        'a=mid:2',
        'a=sctp-port:5000',
        'a=max-message-size:262144',
    ]
) + "\r\n"


FINGERPRINT = ("sha-256", "AA:" * 31 + "AA")
LOCAL = TransportParameters(
    ice_ufrag="podm",
    ice_pwd="podiumpasswordpodium0000",
    fingerprints=[FINGERPRINT],
    candidates=[("127.0.0.1", 40000)],
)


@pytest.fixture
def loopback_only(monkeypatch):
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


def no_stun_servers() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[])  # aiortc would use a public STUN server otherwise


async def aiortc_offer(*kinds: str) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(no_stun_servers())
    for kind in kinds:
        pc.addTransceiver(kind, direction="sendonly")
    offer = await pc.createOffer()
    return pc, offer.sdp


# -- parse / serialize ------------------------------------------------------------------------------


def test_parse_chrome_offer():
    session = SessionDescription.parse(CHROME_OFFER)
    assert session.groups == [Group("BUNDLE", ["0", "1", "2"])]
    assert session.extmap_allow_mixed
    assert [m.kind for m in session.media] == ["audio", "video", "application"]
    audio, video, data = session.media
    assert audio.mid == "0" and audio.direction == "sendonly" and audio.rtcp_mux and audio.rtcp_rsize
    assert audio.ice_ufrag == "4ZcD" and audio.ice_pwd == "2/1muCWoOi3uLifh0NuRHlWH"
    assert audio.fingerprints[0][0] == "sha-256"
    assert audio.setup == "actpass"
    assert audio.candidates[0].host == "127.0.0.1" and audio.candidates[0].port == 46243
    assert audio.candidates[0].extensions == [("generation", "0"), ("network-id", "1")]
    opus = audio.codec(111)
    assert (opus.name, opus.clock_rate, opus.channels) == ("opus", 48000, 2)
    assert opus.parameters == {"minptime": "10", "useinbandfec": "1"}
    assert opus.feedback == ["transport-cc"]
    assert audio.codec(63).parameters == {"111/111": None}
    assert audio.ssrc_list() == [3735928559]
    assert video.rids == [Rid("q", "send"), Rid("h", "send"), Rid("f", "send")]
    assert video.simulcast == Simulcast("send", [["q"], ["h"], ["f"]])
    assert video.ssrcs == []
    assert video.extension_id(URI_RID) == 10
    assert video.codec(102).parameters["profile-level-id"] == "42001f"
    assert data.protocol == "UDP/DTLS/SCTP" and data.formats == ["webrtc-datachannel"]
    assert ("sctp-port", "5000") in data.attributes


@pytest.mark.parametrize("fixture", ["chrome", "aiortc"])
async def test_parse_serialize_round_trip(fixture):
    if fixture == "chrome":
        text = CHROME_OFFER
    else:
        pc, text = await aiortc_offer("audio", "video")
        await pc.close()
    parsed = SessionDescription.parse(text)
    serialized = parsed.serialize()
    assert SessionDescription.parse(serialized) == parsed
    assert SessionDescription.parse(serialized).serialize() == serialized
    # Every line of the original survives (order inside a section may be canonicalised).
    original = sorted(line for line in text.splitlines() if line)
    assert sorted(serialized.splitlines()) == original


def test_answer_round_trips_exactly():
    answer = answer_offer(CHROME_OFFER, LOCAL, session_id=1).answer
    assert SessionDescription.parse(answer).serialize() == answer
    assert answer.endswith("\r\n") and "\n" not in answer.replace("\r\n", "")


@pytest.mark.parametrize(
    "text, message",
    [
        ("o=- 0 0 IN IP4 0.0.0.0\r\n", "SDP has no v= line"),
        ("v=1\r\n", "SDP version must be 0"),
        ("v=0\r\nthis is not sdp\r\n", "SDP line 2 is not of the form"),
        ("v=0\r\nm=audio 9\r\n", "SDP line 2: m= needs media, port, protocol and formats"),
        ("v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n", "m= port is not a number"),
        ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111\r\n", "SDP line 3 has a malformed a=rtpmap"),
        ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:x urn:a\r\n", "malformed a=extmap"),
        ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 udp\r\n", "candidate is malformed"),
        ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:h sideways\r\n", "rid direction must be send or recv"),
        ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=simulcast:up h;l\r\n", "simulcast direction must be"),
    ],
)
def test_parse_errors_are_precise(text, message):
    with pytest.raises(SdpError, match=message):
        SessionDescription.parse(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CHROME_OFFER.splitlines()), max_size=40), st.text(max_size=40))
def test_parse_raises_only_sdp_error(lines, junk):
    text = "v=0\r\n" + "\r\n".join(lines) + "\r\n" + junk
    try:
        session = SessionDescription.parse(text)
    except SdpError:
        return
    assert SessionDescription.parse(session.serialize()).serialize() == session.serialize()


# -- answering a publisher ----------------------------------------------------------------------------


def test_chrome_simulcast_offer_operations():
    result = answer_offer(CHROME_OFFER, LOCAL)
    create, connect, audio, video = result.operations
    assert create == CreateWebRtcTransport("podm", "podiumpasswordpodium0000")
    assert connect == ConnectWebRtcTransport(
        dtls_role="server",
        remote_fingerprints=(("sha-256", "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08"),),
        remote_ice_ufrag="4ZcD",
        remote_ice_pwd="2/1muCWoOi3uLifh0NuRHlWH",
    )
    assert audio == Produce(
        mid="0",
        kind="audio",
        codecs=(
            CodecParameters(111, "audio/opus", 48000, 2, (("minptime", "10"), ("useinbandfec", "1")), ("transport-cc",)),
        ),
        encodings=(Encoding(ssrc=3735928559),),
        header_extensions=HeaderExtensionIds(mid=4, abs_send_time=2, audio_level=1, transport_cc=3),
        cname="p0Hq8mVf3tZy1c2L",
        stream_id="5c4e9f3a-7d7b-4e0e-9f1c-2b8d7a6c5e41",
        track_id="1f0ad2e2-5b36-4d0b-9a57-3c1f2b6a9d10",
    )
    assert video.mid == "1" and video.kind == "video"
    # Browsers' simulcast: RIDs, no SSRCs; the engine learns them from the RID extension.
    assert video.encodings == (Encoding(rid="q"), Encoding(rid="h"), Encoding(rid="f"))
    assert video.header_extensions == HeaderExtensionIds(
        mid=4, rid=10, repaired_rid=11, abs_send_time=2, transport_cc=3
    )
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
    assert vp8.rtcp_feedback == ("goog-remb", "transport-cc", "ccm fir", "nack", "nack pli")


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
        assert media.candidates == [
            Candidate("udpcandidate0", 1, "udp", 2130706431, "127.0.0.1", 40000, "host")
        ]
        assert media.end_of_candidates
        assert (media.port, media.connection) == (40000, "IN IP4 127.0.0.1")
    assert audio.formats == ["111"]
    assert [e.uri for e in audio.extmaps] == [URI_AUDIO_LEVEL, URI_ABS_SEND_TIME, URI_TRANSPORT_CC, URI_MID]
    assert [e.id for e in video.extmaps] == [2, 3, 4, 10, 11]  # no toffset, orientation, timing...
    assert video.formats == ["96", "97", "98", "99", "100", "101", "102", "103", "106", "107", "127", "125", "45", "46", "112", "113"]
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


@pytest.mark.parametrize(
    "name, params, supported",
    [
        ("H264", {"packetization-mode": "1", "profile-level-id": "42e01f"}, True),
        ("H264", {"packetization-mode": "1", "profile-level-id": "640c1f"}, True),
        ("H264", {"packetization-mode": "1", "profile-level-id": "4d0032"}, True),
        ("H264", {"packetization-mode": "0", "profile-level-id": "42e01f"}, False),
        ("H264", {"packetization-mode": "1", "profile-level-id": "f4001f"}, False),  # high 4:4:4
        ("H264", {"packetization-mode": "1"}, True),  # RFC 6184 default: baseline 42001f
        ("VP9", {}, True),
        ("VP9", {"profile-id": "2"}, True),
        ("VP9", {"profile-id": "1"}, False),
        ("VP8", {}, True),
        ("AV1", {"profile": "0"}, True),
        ("H265", {}, False),
    ],
)
def test_video_codec_support(name, params, supported):
    media = MediaSection("video", 9, "UDP/TLS/RTP/SAVPF", ["96", "97"])
    media.codecs = [RtpCodec(96, name, 90000, None, dict(params)), RtpCodec(97, "rtx", 90000, None, {"apt": "96"})]
    negotiated = [c.payload_type for c in negotiate_codecs(media)]
    assert negotiated == ([96, 97] if supported else [])


def test_ipv6_candidate():
    local = TransportParameters("podm", "podiumpasswordpodium0000", [FINGERPRINT], [("2001:db8::7", 40000), ("192.0.2.7", 40000)])
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


# -- offering to a subscriber -----------------------------------------------------------------------


OPUS = CodecParameters(100, "audio/opus", 48000, 2, (("minptime", "10"), ("useinbandfec", "1")), ("transport-cc",))
VP8 = CodecParameters(101, "video/VP8", 90000, None, (), ("nack", "nack pli", "ccm fir", "goog-remb"), rtx_payload_type=102)
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
        assert result.connect.remote_ice_ufrag == pc.getTransceivers()[0].receiver.transport.transport.iceGatherer.getLocalParameters().usernameFragment
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
    assert result.connect == ConnectWebRtcTransport("server", (("sha-256", "CC:" * 31 + "CC"),), "sub1", "subscriberpasswordsub000")

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
