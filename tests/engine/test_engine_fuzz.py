"""Fuzzing the fast path: random and mutated datagrams never crash it, and every datagram is
accounted for (routed RTP + handled RTCP + slow path + drops by reason)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from engine_wire import fir, nack, pli, remb, rr, rtp, rtp_with_extension, sdes_cname, sr, stun_binding_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, _testing
from engine.rtp.twcc import serialize_twcc

PUB_SSRC, OTHER_SSRC = 0x1111, 0x2222


class Rig:
    def __init__(self) -> None:
        self.engine = Engine(host="127.0.0.1", port=0, keyframe_interval=0)
        # sinks that never read: the engine's sends are real, the kernel drops what overflows
        self.sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        for sink in self.sinks:
            sink.bind(("127.0.0.1", 0))
        self.pub_addr, self.sub_addr, self.other_addr = (s.getsockname() for s in self.sinks)
        router = self.engine.create_router()
        pub = router.create_plain_transport(remote=self.pub_addr)
        sub = router.create_plain_transport(remote=self.sub_addr)
        sub.set_header_extensions(mid=1, transport_cc=3)  # numbered, so its feedback is read
        self.subscriber = sub
        video = pub.produce(kind="video", ssrc=PUB_SSRC, payload_type=96)
        audio = pub.produce(kind="audio", ssrc=OTHER_SSRC, payload_type=111)
        self.consumer = sub.consume(video, ssrc=0xC0)
        sub.consume(audio, ssrc=0xC1)
        pub.consume(sub.produce(kind="audio", ssrc=0x3333, payload_type=111), ssrc=0xC2)

    def feed(self, data: bytes, source: int) -> None:
        addr = (self.pub_addr, self.sub_addr, ("127.0.0.1", 1))[source]
        _testing.inject(self.engine._core, data, addr[0], addr[1])
        while self.engine._core.pop_slow() is not None:
            pass

    def close(self) -> None:
        self.engine.close()
        for sink in self.sinks:
            sink.close()


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()
    assert r.engine.allocations()["blocks"] == 0


def twcc(fci: bytes) -> bytes:
    return struct.pack("!BBHII", 0x8F, 205, 2 + len(fci) // 4, 0xCAFE, 0) + fci


SEEDS = [
    rtp(1, 1, PUB_SSRC),
    rtp(65535, 0xFFFFFFFF, OTHER_SSRC, pt=111, payload=b""),
    rtp_with_extension(7, 9, PUB_SSRC),
    bytes([0xA0]) + rtp(3, 3, PUB_SSRC, payload=b"abc\x01")[1:],
    bytes([0x82]) + rtp(4, 4, PUB_SSRC)[1:],
    sr(PUB_SSRC, 1, 2, 3, 4, blocks=1) + sdes_cname(PUB_SSRC),
    rr(0xCAFE, 0xC0) + pli(0xCAFE, 0xC0),
    fir(0xCAFE, 0xC0, 1),
    nack(0xCAFE, 0xC0, [(1, 0xFFFF), (2, 0)]),
    remb(0xCAFE, 1, 1000, [0xC0]),
    twcc(serialize_twcc(0, [1000, None, 3000, 70_000, 60_000] + [None] * 20 + [90_000])),
    twcc(serialize_twcc(65530, [5_000_000 + 250 * i for i in range(40)], 9)),
    stun_binding_request(),
    bytes([23, 0xFE, 0xFD]) + b"\x00" * 20,
]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "extend", "set"]))
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        elif op == "extend":
            data += draw(st.binary(max_size=64))
        elif op == "set" and data:
            data[draw(st.integers(0, min(len(data) - 1, 15)))] = draw(st.integers(0, 255))
    return bytes(data)


datagrams = st.one_of(st.binary(max_size=1600), mutated(), st.sampled_from(SEEDS))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.tuples(datagrams, st.integers(0, 2)), min_size=1, max_size=8))
def test_fast_path_survives_and_accounts_for_every_datagram(rig: Rig, batch) -> None:
    before = rig.engine.stats()["datagrams_in"]
    for data, source in batch:
        rig.feed(data, source)
    stats = rig.engine.stats()
    assert stats["datagrams_in"] == before + len(batch)
    assert (
        stats["datagrams_in"]
        == stats["rtp_routed"] + stats["rtcp_handled"] + stats["slow_queued"] + stats["input_drops"]
    )
    assert stats["drops"]["send_failed"] == 0


def test_oversize_injected_datagram_is_counted(rig: Rig) -> None:
    before = rig.engine.stats()["drops"]["oversize"]
    rig.feed(rtp(1, 1, PUB_SSRC, payload=b"x" * 3000), 0)
    assert rig.engine.stats()["drops"]["oversize"] == before + 1


def test_subscriber_feedback_is_read_and_malformed_feedback_counted(rig: Rig) -> None:
    before = rig.subscriber.stats()
    rig.feed(twcc(serialize_twcc(0, [1000, 2000])), 1)
    rig.feed(twcc(struct.pack("!HH", 0, 5) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x6005) + bytes(2)), 1)
    after = rig.subscriber.stats()
    assert after["twcc_feedback"] == before["twcc_feedback"] + 1
    assert after["twcc_malformed"] == before["twcc_malformed"] + 1
    assert 50_000 <= after["estimate_bps"] <= 50_000_000
