"""Independent peers through the engine: aiortc publishers (full ICE, DTLS, SRTP; VP8 and Opus
encoded with PyAV from recognisable synthetic media) and an aiortc subscriber that decodes them."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from harness import loopback_only, new_peer_connection, publish, strip_ssrcs, subscribe, wait_for
from media import NumberedVideoTrack, ToneAudioTrack, dominant_frequency, read_number

from engine import Engine
from engine.events import ProducerSsrcLearned
from engine.webrtc.dtls import DtlsCertificate, SrtpProfile

pytestmark = pytest.mark.timeout(60)

TONES = (440.0, 1000.0)
RUN_SECONDS = 2.5


@pytest.fixture
async def engine(monkeypatch):
    loopback_only(monkeypatch)
    eng = Engine(host="127.0.0.1", port=0)
    await eng.start()
    yield eng
    eng.close()
    assert eng.allocations() == {"blocks": 0, "transports": 0, "producers": 0, "consumers": 0, "srtp_contexts": 0}


async def collect(track, sink: list) -> None:
    with contextlib.suppress(Exception):  # MediaStreamError when the peer connection closes
        while True:
            sink.append(await track.recv())


@pytest.mark.parametrize(
    "profile", [SrtpProfile.AEAD_AES_128_GCM, SrtpProfile.AES128_CM_HMAC_SHA1_80], ids=lambda p: p.name
)
async def test_video_and_audio_through_the_engine(engine: Engine, profile: SrtpProfile) -> None:
    events: list = []
    engine.on_event = events.append
    router = engine.create_router()
    profiles = [profile]
    video = NumberedVideoTrack()
    pc_a, pc_b, pc_sub = new_peer_connection(), new_peer_connection(), new_peer_connection()
    tasks: list[asyncio.Task] = []
    try:
        # publisher A: VP8 + a 440 Hz tone; its offer loses its a=ssrc lines (as a browser's
        # simulcast offer has none), so the engine learns the SSRCs from the MID extension
        pc_a.addTrack(video)
        pc_a.addTrack(ToneAudioTrack(TONES[0]))
        a = await publish(router, pc_a, srtp_profiles=profiles, munge=strip_ssrcs)
        # publisher B: a 1000 Hz tone, SSRC from its SDP
        pc_b.addTrack(ToneAudioTrack(TONES[1]))
        b = await publish(router, pc_b, srtp_profiles=profiles)
        assert [p.ssrc for p in a.producers] == [None, None] and b.producers[0].ssrc is not None

        sources = [(p, pub.codecs[p.id]) for pub in (a, b) for p in pub.producers]
        received: dict[str, list] = {}

        @pc_sub.on("track")
        def on_track(track) -> None:
            sink = received.setdefault(track.id, [])
            tasks.append(asyncio.ensure_future(collect(track, sink)))

        sub_t, consumers = await subscribe(router, pc_sub, sources, extensions=a.extensions, srtp_profiles=profiles)
        transports = [a.transport, b.transport, sub_t]
        assert await wait_for(lambda: all(t.state == "connected" for t in transports), 10)
        assert {t.srtp_profile for t in transports} == {profile}
        assert await wait_for(lambda: all(p.ssrc for p in a.producers), 5)
        assert {e.producer_id for e in events if isinstance(e, ProducerSsrcLearned)} == {p.id for p in a.producers}

        first = video.sent
        await asyncio.sleep(RUN_SECONDS)
        last = video.sent
        await asyncio.sleep(0.3)  # the frames in flight
        packets_out = [c.stats()["packets_out"] for c in consumers]
    finally:
        for pc in (pc_a, pc_b, pc_sub):
            await pc.close()
        for task in tasks:
            task.cancel()

    assert len(received) == 3
    transceivers = {t.mid: t for t in pc_sub.getTransceivers()}
    by_mid = {mid: received.get(t.receiver.track.id, []) for mid, t in transceivers.items()}
    # video: decoded numbers are the frames sent, increasing; most of them arrive
    numbers = [read_number(frame) for frame in by_mid["0"]]
    assert numbers, "no video frame decoded"
    assert numbers == sorted(set(numbers)), numbers
    assert numbers[-1] < video.sent and numbers[0] >= 0
    expected = set(range(max(first, numbers[0]), last))
    assert len(expected & set(numbers)) >= 0.8 * len(expected), (len(numbers), first, last)
    # audio: each subscriber track carries its publisher's tone
    for mid, tone in (("1", TONES[0]), ("2", TONES[1])):
        frames = by_mid[mid][10:]  # skip the decoder's warm-up
        assert len(frames) >= 25, (mid, len(frames))
        assert abs(dominant_frequency(frames) - tone) < 15, (mid, dominant_frequency(frames))
    stats = engine.stats()
    assert stats["drops"]["srtp_auth"] == 0
    assert all(n > 0 for n in packets_out)


async def test_subscriber_with_a_foreign_certificate_gets_no_media(engine: Engine) -> None:
    """The subscriber's answer names another certificate: DTLS fails, no SRTP keys, nothing sent."""
    router = engine.create_router()
    pc_pub, pc_sub = new_peer_connection(), new_peer_connection()
    got: list = []
    try:
        pc_pub.addTrack(ToneAudioTrack(TONES[0]))
        pub = await publish(router, pc_pub)
        sources = [(p, pub.codecs[p.id]) for p in pub.producers]
        other = DtlsCertificate.generate().fingerprint()

        def forge(sdp: str) -> str:
            return "".join(
                f"a=fingerprint:sha-256 {other}\r\n" if line.startswith("a=fingerprint:") else line
                for line in sdp.splitlines(keepends=True)
            )

        pc_sub.on("track", lambda track: asyncio.ensure_future(collect(track, got)))
        sub_t, (consumer,) = await subscribe(router, pc_sub, sources, extensions=pub.extensions, munge_answer=forge)
        assert await wait_for(lambda: sub_t.state == "failed", 10)
        assert await wait_for(lambda: pub.producers[0].stats()["packets_in"] > 20, 5)
        assert sub_t.srtp_profile is None and sub_t.stats()["dtls"]["fingerprint_mismatches"] == 1
        assert consumer.stats()["packets_out"] == 0 and got == []
    finally:
        await pc_pub.close()
        await pc_sub.close()
