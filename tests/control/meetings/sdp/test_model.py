"""SDP model: parse/serialize round trips on real Chrome and aiortc offers, precise parse errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdp_offers import CHROME_OFFER, aiortc_offer

from control.meetings.sdp import (
    URI_RID,
    Group,
    Rid,
    SdpError,
    SessionDescription,
    Simulcast,
)


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
