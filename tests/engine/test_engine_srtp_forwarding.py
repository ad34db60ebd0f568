"""SRTP transports in the forwarding path: decrypted once from the publisher, encrypted per
subscriber with that subscriber's key (pylibsrtp plays the peers)."""

from __future__ import annotations

import os

from engine_wire import parse_rtp, rtp
from pylibsrtp import Policy, Session

from engine import Engine, _testing

PROFILE = 1  # SRTP_AES128_CM_HMAC_SHA1_80: 16-byte key + 14-byte salt


def session(key: bytes, direction: int) -> Session:
    return Session(policy=Policy(key=key, ssrc_type=direction, srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80))


async def test_srtp_publisher_to_srtp_subscriber(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    pub_key, engine_to_pub, sub_key, engine_to_sub = (os.urandom(30) for _ in range(4))
    pub_t = router.create_plain_transport(remote=pub.address)
    sub_t = router.create_plain_transport(remote=sub.address)
    pub_t.set_srtp(PROFILE, local_key_salt=engine_to_pub, remote_key_salt=pub_key)
    sub_t.set_srtp(PROFILE, local_key_salt=engine_to_sub, remote_key_salt=sub_key)
    producer = pub_t.produce(kind="audio", ssrc=0x51, payload_type=111)
    consumer = sub_t.consume(producer)
    pub_tx = session(pub_key, Policy.SSRC_ANY_OUTBOUND)
    sub_rx = session(engine_to_sub, Policy.SSRC_ANY_INBOUND)

    plain = [rtp(100 + i, 960 * i, 0x51, pt=111, payload=bytes([i]) * 80) for i in range(10)]
    for packet in plain:
        pub.send(pub_tx.protect(packet))
    pub.send(rtp(110, 9600, 0x51, pt=111))  # not encrypted: fails authentication
    received = await sub.receive(10)
    assert len(received) == 10
    out = [parse_rtp(sub_rx.unprotect(data)) for data in received]
    assert [p.payload for p in out] == [parse_rtp(p).payload for p in plain]
    assert {p.ssrc for p in out} == {consumer.ssrc}
    assert pub_t.stats()["drops"]["srtp_auth"] == 1
    before = _testing.srtp_resource_counts()["heap_contexts"]
    router.close()  # the transports own their SRTP contexts
    assert _testing.srtp_resource_counts()["heap_contexts"] == before - 2


async def test_srtp_contexts_are_counted_in_allocations(engine: Engine, peers) -> None:
    router = engine.create_router()
    transports = [router.create_plain_transport(remote=peers().address) for _ in range(3)]
    for transport in transports:
        transport.set_srtp(PROFILE, local_key_salt=os.urandom(30), remote_key_salt=os.urandom(30))
    assert engine.allocations()["srtp_contexts"] == 3
    transports[0].set_srtp(PROFILE, local_key_salt=os.urandom(30), remote_key_salt=os.urandom(30))  # re-keyed
    assert engine.allocations()["srtp_contexts"] == 3
    transports[0].close()
    assert engine.allocations()["srtp_contexts"] == 2
    router.close()
    assert engine.allocations()["srtp_contexts"] == 0


def test_srtp_contexts_are_freed_with_the_engine() -> None:
    engine = Engine(host="127.0.0.1", port=0)
    transport = engine.create_router().create_plain_transport(remote=("127.0.0.1", 9))
    transport.set_srtp(PROFILE, local_key_salt=os.urandom(30), remote_key_salt=os.urandom(30))
    before = _testing.srtp_resource_counts()["heap_contexts"]
    assert engine.allocations()["srtp_contexts"] == 1
    engine.close()
    assert engine.allocations()["srtp_contexts"] == 0
    assert _testing.srtp_resource_counts()["heap_contexts"] == before - 1
