"""WebRTC transports on the worker's socket: ICE-lite trust, DTLS-SRTP keying, the C address table,
and the refusals (wrong STUN credentials, wrong fingerprint, wrong SRTP key, untrusted address)."""

from __future__ import annotations

import asyncio
import struct

import pytest
from engine_wire import parse_rtp, rtp
from pylibsrtp import Policy, Session
from webrtc_peer import PEER_UFRAG, WebRtcPeer

from engine import Engine
from engine.events import TransportRemoteChanged, TransportStateChanged
from engine.webrtc.dtls import Closed, DtlsCertificate, HandshakeComplete, SrtpProfile

SSRC = 0x1111


@pytest.fixture(scope="module")
def certificate() -> DtlsCertificate:
    return DtlsCertificate.generate()


@pytest.fixture
def events(engine: Engine) -> list:
    got: list = []
    engine.on_event = got.append
    return got


async def until(condition, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def connect(engine: Engine, router, certificate, role: str = "server", profiles=None):
    transport = router.create_webrtc_transport(srtp_profiles=profiles)
    peer = WebRtcPeer(engine.address, certificate)
    ufrag, pwd = transport.ice_parameters
    assert await peer.check(ufrag, pwd, timeout=5.0) is not None
    transport.connect(role, certificate.fingerprints(), PEER_UFRAG)
    await peer.handshake("client" if role == "server" else "server", engine.dtls_fingerprints)
    await until(lambda: transport.state == "connected")
    return transport, peer


async def publish_subscribe(engine: Engine, certificate, **kwargs):
    router = engine.create_router()
    pub_t, pub = await connect(engine, router, certificate, **kwargs)
    sub_t, sub = await connect(engine, router, certificate, **kwargs)
    producer = pub_t.produce("audio", SSRC, 111)
    consumer = sub_t.consume(producer)
    return router, (pub_t, pub), (sub_t, sub), producer, consumer


@pytest.mark.parametrize("role", ["server", "client"])
async def test_media_flows_through_srtp_both_dtls_roles(engine, certificate, events, role) -> None:
    _, (pub_t, pub), (sub_t, sub), producer, consumer = await publish_subscribe(engine, certificate, role=role)
    assert pub_t.srtp_profile is SrtpProfile.AEAD_AES_128_GCM
    assert isinstance(pub.events[0], HandshakeComplete)
    for i in range(5):
        pub.send_rtp(rtp(10 + i, 960 * i, SSRC, pt=111, payload=bytes([i]) * 50))
    got = await sub.receive_rtp(5)
    assert [parse_rtp(p).payload[0] for p in got] == [0, 1, 2, 3, 4]
    assert {parse_rtp(p).ssrc for p in got} == {consumer.ssrc}
    assert TransportStateChanged(pub_t.id, "connected") in events
    assert TransportRemoteChanged(pub_t.id, pub.address) in events
    assert pub_t.stats()["remote"] == pub.address
    pub.close(), sub.close()


@pytest.mark.parametrize("profile", [SrtpProfile.AES128_CM_HMAC_SHA1_80, SrtpProfile.AES128_CM_HMAC_SHA1_32])
async def test_constrained_srtp_profile(engine, certificate, profile) -> None:
    _, (pub_t, pub), (sub_t, sub), _, _ = await publish_subscribe(engine, certificate, profiles=[profile])
    assert pub_t.srtp_profile is sub_t.srtp_profile is profile
    pub.send_rtp(rtp(1, 0, SSRC, pt=111))
    assert len(await sub.receive_rtp(1)) == 1
    pub.close(), sub.close()


async def test_wrong_stun_credentials_are_ignored(engine, certificate) -> None:
    transport = engine.create_router().create_webrtc_transport()
    ufrag, pwd = transport.ice_parameters
    peer = WebRtcPeer(engine.address, certificate)
    assert await peer.check(ufrag, "x" * 24) is None  # bad MESSAGE-INTEGRITY
    assert await peer.check("nobody", pwd) is None  # no such transport
    transport.connect("server", certificate.fingerprints(), "someone-else")
    assert await peer.check(ufrag, pwd) is None  # the SDP names another remote ufrag
    assert transport.ice.trusted == {}
    stats = engine.stats()["webrtc"]
    assert stats["stun_unknown_ufrag"] == 1 and transport.stats()["ice"]["bad_integrity"] == 1
    assert transport.stats()["ice"]["bad_username"] == 1
    peer.close()


async def test_untrusted_address_and_wrong_key_never_reach_a_subscriber(engine, certificate) -> None:
    _, (pub_t, pub), (sub_t, sub), producer, _ = await publish_subscribe(engine, certificate)
    # the right keys from an address that did no ICE check
    stranger = WebRtcPeer(engine.address, certificate)
    stranger.tx = pub.tx
    stranger.send_rtp(rtp(1, 0, SSRC, pt=111))
    # the trusted address, a wrong key
    forger = WebRtcPeer(engine.address, certificate)
    forger.sock.close()
    forger.sock = pub.sock
    forger.tx = Session(Policy(key=bytes(28), ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=int(pub_t.srtp_profile)))
    forger.send_rtp(rtp(2, 960, SSRC, pt=111))
    pub.send(rtp(3, 1920, SSRC, pt=111))  # in clear
    assert await sub.receive_rtp(timeout=0.3) == []
    assert engine.stats()["webrtc"]["untrusted_media"] == 1
    assert pub_t.stats()["drops"]["srtp_auth"] == 2
    assert producer.stats()["packets_in"] == 0
    pub.send_rtp(rtp(4, 2880, SSRC, pt=111))  # and the real one still passes
    assert len(await sub.receive_rtp(1)) == 1
    stranger.close(), pub.close(), sub.close()


async def test_fingerprint_mismatch_gets_no_keys_and_no_media(engine, certificate, events) -> None:
    router = engine.create_router()
    transport = router.create_webrtc_transport()
    producer = transport.produce("audio", SSRC, 111)
    peer = WebRtcPeer(engine.address, certificate)
    ufrag, pwd = transport.ice_parameters
    assert await peer.check(ufrag, pwd, timeout=5.0) is not None
    transport.connect("server", DtlsCertificate.generate().fingerprints())  # not the peer's
    await peer.handshake("client", engine.dtls_fingerprints)
    await until(lambda: transport.state == "failed")
    assert TransportStateChanged(transport.id, "failed", "DTLS fingerprint mismatch") in events
    assert transport.stats()["dtls"]["fingerprint_mismatches"] == 1
    assert transport.srtp_profile is None and not any(isinstance(e, HandshakeComplete) for e in peer.events)
    peer.send(rtp(1, 0, SSRC, pt=111))
    await asyncio.sleep(0.05)
    assert producer.stats()["packets_in"] == 0
    assert engine.stats()["webrtc"]["media_before_keys"] == 1
    peer.close()


async def test_consent_expiry_and_rebinding(engine, certificate, events) -> None:
    _, (pub_t, pub), (sub_t, sub), producer, consumer = await publish_subscribe(engine, certificate)
    ufrag, pwd = sub_t.ice_parameters
    # the subscriber's NAT rebinds: same keys, new address, a nominating check from there
    moved = WebRtcPeer(engine.address, certificate)
    moved.rx = sub.rx
    assert await moved.check(ufrag, pwd, timeout=5.0) is not None
    assert sub_t.remote == moved.address
    pub.send_rtp(rtp(1, 0, SSRC, pt=111))
    assert len(await moved.receive_rtp(1)) == 1
    assert await sub.receive(timeout=0.1) == []
    # consent: addresses silent for the timeout are forgotten, and nothing is sent any more
    sub_t.ice.consent_timeout = 0.2
    sub_t._schedule()
    await until(lambda: sub_t.state == "disconnected")
    assert sub_t.remote is None and TransportRemoteChanged(sub_t.id, None) in events
    pub.send_rtp(rtp(2, 960, SSRC, pt=111))
    assert await moved.receive(timeout=0.1) == []
    assert consumer.stats()["gated"] >= 1
    # the old address, no longer trusted, cannot send media either
    sub.send(rtp(5, 0, 0x77))
    await asyncio.sleep(0.05)
    assert engine.stats()["webrtc"]["untrusted_media"] == 1
    # a fresh check brings it back
    assert await moved.check(ufrag, pwd, timeout=5.0) is not None
    assert sub_t.state == "connected"
    pub.send_rtp(rtp(3, 1920, SSRC, pt=111))
    assert len(await moved.receive_rtp(1)) == 1
    moved.close(), pub.close(), sub.close()


async def test_close_sends_close_notify(engine, certificate, events) -> None:
    router = engine.create_router()
    transport, peer = await connect(engine, router, certificate)
    transport.close()
    for data in await peer.receive(timeout=0.3):
        out, new = peer.dtls.receive(data, 0.0)
        peer.events += new
    assert Closed() in peer.events
    assert engine.webrtc._by_ufrag == {} and engine.webrtc._by_addr == {}
    peer.close()


async def test_peer_close_notify_stops_media(engine, certificate, events) -> None:
    _, (pub_t, pub), (sub_t, sub), _, consumer = await publish_subscribe(engine, certificate)
    for datagram in sub.dtls.close():
        sub.send(datagram)
    await until(lambda: sub_t.state == "closed")
    answer = await sub.receive(timeout=0.1)  # our close_notify in return
    assert answer and all(data[0] == 21 for data in answer)
    pub.send_rtp(rtp(1, 0, SSRC, pt=111))
    assert await sub.receive(timeout=0.1) == []
    pub.close(), sub.close()


# -- SSRC learning from MID/RID header extensions -----------------------------------------------


async def test_ssrcs_learned_from_mid_and_rid(engine, certificate, events) -> None:
    router = engine.create_router()
    pub_t, pub = await connect(engine, router, certificate)
    sub_t, sub = await connect(engine, router, certificate)
    pub_t.set_header_extensions(mid=1, rid=2, repaired_rid=3)
    high = pub_t.produce("video", None, 96, mid="v", rid="h")
    low = pub_t.produce("video", None, 96, mid="v", rid="l")
    audio = pub_t.produce("audio", None, 111, mid="a")
    consumers = [sub_t.consume(p) for p in (high, low, audio)]
    # first packets carry MID and RID; the first of each stream is dropped while it is learned
    pub.send_rtp(rtp_ext(1, 0xA1, {1: b"v", 2: b"h"}))
    pub.send_rtp(rtp_ext(1, 0xA2, {1: b"v", 2: b"l"}))
    pub.send_rtp(rtp_ext(1, 0xA3, {1: b"a"}, pt=111))
    pub.send_rtp(rtp_ext(1, 0xA4, {1: b"v", 3: b"h"}, pt=97))  # RTX of "h": repaired-rid
    pub.send_rtp(rtp_ext(1, 0xA5, {1: b"zz"}))  # names no producer
    await until(lambda: high.ssrc and low.ssrc and audio.ssrc and high.rtx_ssrc)
    assert (high.ssrc, low.ssrc, audio.ssrc, high.rtx_ssrc) == (0xA1, 0xA2, 0xA3, 0xA4)
    await until(lambda: pub_t.unmapped_ssrcs == 1)
    learned = [(e.producer_id, e.ssrc, e.rtx) for e in events if type(e).__name__ == "ProducerSsrcLearned"]
    assert sorted(learned) == sorted(
        [(high.id, 0xA1, False), (low.id, 0xA2, False), (audio.id, 0xA3, False), (high.id, 0xA4, True)]
    )
    assert engine.stats()["ssrc_learn_queued"] == 5
    assert high.stats()["keyframe_requests"] >= 1  # the dropped packets may have held a keyframe
    # later packets need no extension any more
    for ssrc, pt in ((0xA1, 96), (0xA2, 96), (0xA3, 111)):
        pub.send_rtp(rtp(2, 3000, ssrc, pt=pt))
    got = {parse_rtp(p).ssrc for p in await sub.receive_rtp(3)}
    assert got == {c.ssrc for c in consumers}
    pub.close(), sub.close()


def rtp_ext(seq: int, ssrc: int, extensions: dict[int, bytes], pt: int = 96) -> bytes:
    from webrtc_peer import rtp_with_extensions

    return rtp_with_extensions(seq, 0, ssrc, extensions, pt=pt)


async def test_learning_queue_is_bounded(engine, certificate) -> None:
    router = engine.create_router()
    transport, peer = await connect(engine, router, certificate)
    transport.set_header_extensions(mid=1)
    # 100 unknown SSRCs in one burst: at most LEARN_QUEUE_SIZE (64) wait for Python, the rest are counted
    for i in range(100):
        peer.send_rtp(rtp_ext(1, 0x100 + i, {1: b"x"}))
    await until(lambda: engine.stats()["drops"]["unknown_ssrc"] == 100)
    await asyncio.sleep(0.02)
    stats = engine.stats()
    assert stats["ssrc_learn_queued"] + stats["ssrc_learn_overflow"] == 100
    assert stats["ssrc_learn_queued"] <= 100 and transport.unmapped_ssrcs == stats["ssrc_learn_queued"]
    peer.close()


def test_rtp_with_extensions_helper() -> None:
    from engine import _testing

    view = _testing.inspect_rtp(rtp_ext(7, 0x42, {1: b"0", 2: b"hi"}))
    assert view["ssrc"] == 0x42 and view["extensions"] == [(1, b"0"), (2, b"hi")]
    assert struct.unpack("!H", rtp_ext(7, 0x42, {})[2:4])[0] == 7
