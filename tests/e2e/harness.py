"""In-process signaling for end-to-end tests: SDP between aiortc peers and an engine router.

What the control plane's signaling will do, minus the network: answer a publisher's offer and apply
the resulting operations (control.meetings.sdp) to the engine; offer a subscriber its consumers and
apply its answer. The functions take an engine Router and plain SDP text, so signaling can reuse them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aioice.ice
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from control.meetings.sdp import (
    CodecParameters,
    ConnectWebRtcTransport,
    ConsumerDescription,
    HeaderExtensionIds,
    Produce,
    TransportParameters,
    answer_offer,
    build_subscriber_offer,
    parse_subscriber_answer,
)
from engine import Consumer, Producer, Router, WebRtcTransport


def loopback_only(monkeypatch) -> None:
    """aioice gathers 127.0.0.1 only (and aiortc gets no STUN server): nothing leaves the host."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


def new_peer_connection() -> RTCPeerConnection:
    # max-bundle: with aiortc's default (balanced), a second m-section of the same kind in a remote
    # offer keeps a transport of its own that BUNDLE never replaces, so its receiver never starts
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def local_parameters(transport: WebRtcTransport) -> TransportParameters:
    ufrag, pwd = transport.ice_parameters
    engine = transport.engine
    return TransportParameters(ufrag, pwd, engine.dtls_fingerprints, engine.candidates)


def strip_ssrcs(sdp: str) -> str:
    """The offer as a browser sending simulcast writes it: no a=ssrc, so SSRCs must be learned."""
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith(("a=ssrc:", "a=ssrc-group:")))


@dataclass
class Published:
    transport: WebRtcTransport
    producers: list[Producer]
    codecs: dict[int, CodecParameters] = field(default_factory=dict)
    """Producer id -> its negotiated codec (what a subscriber's offer needs)."""
    extensions: HeaderExtensionIds = field(default_factory=HeaderExtensionIds)


def connect(transport: WebRtcTransport, operation: ConnectWebRtcTransport) -> None:
    transport.connect(operation.dtls_role, operation.remote_fingerprints, operation.remote_ice_ufrag)


def apply_produce(transport: WebRtcTransport, operation: Produce, published: Published) -> None:
    codec = operation.codecs[0]
    for encoding in operation.encodings:
        producer = transport.produce(
            operation.kind,
            encoding.ssrc,
            codec.payload_type,
            clock_rate=codec.clock_rate,
            mid=operation.mid,
            rid=encoding.rid,
            rtx_ssrc=encoding.rtx_ssrc,
            rtx_payload_type=codec.rtx_payload_type,
        )
        published.producers.append(producer)
        published.codecs[producer.id] = codec


def merged_extensions(operations: list[Produce]) -> HeaderExtensionIds:
    """One id per extension for the whole BUNDLE transport (RFC 8843 requires them consistent)."""
    ids: dict[str, int] = {}
    for operation in operations:
        for name, value in vars(operation.header_extensions).items():
            if value is not None:
                ids.setdefault(name, value)
    return HeaderExtensionIds(**ids)


async def publish(router: Router, pc: RTCPeerConnection, *, srtp_profiles=None, munge=lambda sdp: sdp) -> Published:
    """pc (with its tracks added) offers; the engine answers, creates the transport and producers."""
    await pc.setLocalDescription(await pc.createOffer())
    transport = router.create_webrtc_transport(srtp_profiles=srtp_profiles)
    result = answer_offer(munge(pc.localDescription.sdp), local_parameters(transport))
    produces = [op for op in result.operations if isinstance(op, Produce)]
    published = Published(transport, [], extensions=merged_extensions(produces))
    for operation in result.operations:
        if isinstance(operation, ConnectWebRtcTransport):
            connect(transport, operation)
        elif isinstance(operation, Produce):
            apply_produce(transport, operation, published)
    ext = published.extensions
    transport.set_header_extensions(mid=ext.mid, rid=ext.rid, repaired_rid=ext.repaired_rid)
    await pc.setRemoteDescription(RTCSessionDescription(result.answer, "answer"))
    return published


async def subscribe(
    router: Router,
    pc: RTCPeerConnection,
    sources: list[tuple[Producer, CodecParameters]],
    *,
    extensions: HeaderExtensionIds,
    srtp_profiles=None,
    munge_answer=lambda sdp: sdp,
) -> tuple[WebRtcTransport, list[Consumer]]:
    """The engine offers pc one consumer per producer; pc answers; the engine connects.

    `extensions` must be the publishers' ids: the engine forwards header extensions unchanged."""
    transport = router.create_webrtc_transport(srtp_profiles=srtp_profiles)
    consumers = [transport.consume(producer) for producer, _ in sources]
    descriptions = [
        ConsumerDescription(
            mid=str(index),
            kind=consumer.kind,
            ssrc=consumer.ssrc,
            codec=codec,
            cname="podium",
            stream_id=f"stream{consumer.producer.transport.id}",
            track_id=f"track{consumer.producer.id}",
        )
        for index, (consumer, (_, codec)) in enumerate(zip(consumers, sources))
    ]
    offer = build_subscriber_offer(descriptions, local_parameters(transport), extensions=extensions)
    await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    answer = parse_subscriber_answer(munge_answer(pc.localDescription.sdp), offer)
    connect(transport, answer.connect)
    return transport, consumers


async def wait_for(condition, timeout: float, step: float = 0.02) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(step)
    return True
