"""Media reconciliation: a meeting's engine objects, and the operations that make them follow
`media_plan(state)`.

Each participant has one publish transport (the client offers) and one subscribe transport (we
offer). A producer's gate is open exactly when the plan opens it; a consumer exists only once its
(publisher, source) → subscriber pair has been allowed, and its gate follows the plan from then on
(consumers are kept, paused, when the plan closes them, so that a subscriber is not re-offered for
every mute). Nothing here awaits: `Media` computes engine-channel operations and updates its own
records; the service sends the operations as one versioned batch and awaits the ack.

Engine object ids: the router is the meeting id; transports are ``<pid>.pub`` / ``<pid>.sub``;
producers ``<pid>.<source>.<n>``; consumers ``<subscriber>.c<n>``.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from contract import ops as contract_ops
from control.domain.meeting_state import MediaPlan, MeetingState, media_plan
from control.domain.roles import KIND, Source
from control.meetings.sdp import (
    CodecParameters,
    ConnectWebRtcTransport,
    ConsumerDescription,
    HeaderExtensionIds,
    Produce,
    TransportParameters,
    build_subscriber_offer,
)

Op = contract_ops.Operation


@dataclass
class Publication:
    """One producer of a participant."""

    producer_id: str
    source: Source
    kind: str
    mid: str
    codec: CodecParameters
    paused: bool = True
    """The producer gate as last sent to the engine (True: closed)."""


@dataclass
class Subscription:
    """One consumer: a publisher's producer sent to this subscriber."""

    consumer_id: str
    publisher: str
    source: Source
    producer_id: str
    kind: str
    mid: str
    """The m-section of the subscriber's offer (never reused)."""
    ssrc: int
    codec: CodecParameters
    paused: bool
    active: bool = True
    """False once its producer or publisher is gone (the m-section stays, with port 0)."""
    rtx_ssrc: int | None = None
    """The consumer's RTX stream (RFC 4588), when the publisher's codec has RTX."""


@dataclass
class Peer:
    """A participant's engine objects."""

    pid: str
    pub_transport: str | None = None
    pub_ice: tuple[str, str] = field(default_factory=lambda: (secrets.token_hex(4), secrets.token_hex(12)))
    extensions: HeaderExtensionIds = field(default_factory=HeaderExtensionIds)
    publications: dict[Source, Publication] = field(default_factory=dict)
    sub_transport: str | None = None
    sub_ice: tuple[str, str] = field(default_factory=lambda: (secrets.token_hex(4), secrets.token_hex(12)))
    sub_connected: bool = False
    subscriptions: list[Subscription] = field(default_factory=list)
    offer_version: int = 0
    pending_offer: tuple[int, str] | None = None
    """(version, sdp) of the subscribe offer awaiting the client's answer."""
    dirty: bool = False
    """Consumers were added since the last offer: the subscriber needs a new one."""
    counter: int = 0

    def next_id(self) -> int:
        self.counter += 1
        return self.counter


class Media:
    """The engine side of one meeting on one worker."""

    def __init__(self, router_id: str, worker_id: str, fingerprints: list[tuple[str, str]],
                 candidates: list[tuple[str, int]]) -> None:
        self.router_id = router_id
        self.worker_id = worker_id
        self.fingerprints = fingerprints
        self.candidates = candidates
        self.peers: dict[str, Peer] = {}
        self.router_created = False
        self.plan: MediaPlan | None = None

    def peer(self, pid: str) -> Peer:
        peer = self.peers.get(pid)
        if peer is None:
            peer = self.peers[pid] = Peer(pid)
        return peer

    def local(self, ice: tuple[str, str]) -> TransportParameters:
        return TransportParameters(ice[0], ice[1], self.fingerprints, self.candidates)

    def _router(self) -> list[Op]:
        if self.router_created:
            return []
        self.router_created = True
        return [contract_ops.CreateRouter(self.router_id)]

    # -- publishing --

    def publish(self, pid: str, connect: ConnectWebRtcTransport | None, produces: list[tuple[Produce, Source]]
                ) -> tuple[list[Op], list[Publication]]:
        """Operations creating the publish transport (first offer) and one producer per new source
        (gated: `reconcile` opens what the plan allows)."""
        ops = self._router()
        peer = self.peer(pid)
        if peer.pub_transport is None:
            assert connect is not None
            peer.pub_transport = f"{pid}.pub"
            ops.append(contract_ops.CreateWebRtcTransport(peer.pub_transport, self.router_id, peer.pub_ice[0],
                                                          peer.pub_ice[1]))
            ops.append(_connect_op(peer.pub_transport, connect))
        ids: dict[str, int] = {}
        for produce, _ in produces:
            for name, value in vars(produce.header_extensions).items():
                if value is not None:
                    ids.setdefault(name, value)
        merged = HeaderExtensionIds(**{**{k: v for k, v in vars(peer.extensions).items() if v is not None}, **ids})
        if merged != peer.extensions:
            peer.extensions = merged
            ops.append(contract_ops.SetHeaderExtensions(peer.pub_transport, mid=merged.mid, rid=merged.rid,
                                                        repaired_rid=merged.repaired_rid))
        created = []
        for produce, source in produces:
            codec = produce.codecs[0]
            encoding = produce.encodings[0] if produce.encodings else None
            producer_id = f"{pid}.{source}.{peer.next_id()}"
            ops.append(contract_ops.Produce(
                producer_id, peer.pub_transport, produce.kind, codec.payload_type, app_data={"source": str(source)},
                ssrc=encoding.ssrc if encoding else None, mid=produce.mid, rid=encoding.rid if encoding else None,
                clock_rate=codec.clock_rate, paused=True, rtx_ssrc=encoding.rtx_ssrc if encoding else None,
                rtx_payload_type=codec.rtx_payload_type if encoding and encoding.rtx_ssrc else None))
            publication = Publication(producer_id, source, produce.kind, produce.mid, codec)
            peer.publications[source] = publication
            created.append(publication)
        return ops, created

    def close_producer(self, pid: str, source: Source) -> list[Op]:
        peer = self.peers.get(pid)
        publication = peer.publications.pop(source, None) if peer else None
        if publication is None:
            return []
        self._deactivate(lambda s: s.producer_id == publication.producer_id)
        return [contract_ops.CloseProducer(publication.producer_id)]

    # -- subscribing --

    def subscribe_offer(self, pid: str) -> tuple[int, str, list[Subscription]] | None:
        """A new offer for the subscriber when consumers were added and none is awaiting an answer."""
        peer = self.peers.get(pid)
        if peer is None or not peer.dirty or peer.pending_offer is not None or peer.sub_transport is None:
            return None
        if not any(s.active for s in peer.subscriptions):
            return None
        peer.dirty = False
        peer.offer_version += 1
        descriptions = [
            ConsumerDescription(mid=s.mid, kind=s.kind, ssrc=s.ssrc, codec=s.codec, cname="podium",
                                stream_id=s.publisher, track_id=s.consumer_id, active=s.active,
                                rtx_ssrc=s.rtx_ssrc)
            for s in peer.subscriptions
        ]
        extensions = self._publisher_extensions(peer)
        sdp = build_subscriber_offer(descriptions, self.local(peer.sub_ice), version=peer.offer_version,
                                     extensions=extensions)
        peer.pending_offer = (peer.offer_version, sdp)
        return peer.offer_version, sdp, list(peer.subscriptions)

    def _publisher_extensions(self, peer: Peer) -> HeaderExtensionIds:
        """The engine forwards header extensions unchanged: offer the publishers' ids (the first
        publisher's; browsers and aiortc use the same ids for every sender of a kind)."""
        for s in peer.subscriptions:
            publisher = self.peers.get(s.publisher)
            if publisher is not None and publisher.extensions.mid is not None:
                e = publisher.extensions
                return HeaderExtensionIds(mid=e.mid, abs_send_time=e.abs_send_time, audio_level=e.audio_level,
                                          transport_cc=e.transport_cc)
        from control.meetings.sdp import SUBSCRIBER_EXTENSIONS
        return SUBSCRIBER_EXTENSIONS

    def answered(self, pid: str, connect: ConnectWebRtcTransport) -> list[Op]:
        """The subscriber answered its pending offer: connect the transport the first time."""
        peer = self.peers[pid]
        peer.pending_offer = None
        if peer.sub_connected or peer.sub_transport is None:
            return []
        peer.sub_connected = True
        return [_connect_op(peer.sub_transport, connect)]

    # -- departures --

    def drop(self, pid: str) -> list[Op]:
        """Close a departed participant's transports (their producers and consumers go with them)."""
        peer = self.peers.pop(pid, None)
        if peer is None:
            return []
        self._deactivate(lambda s: s.publisher == pid)
        return [contract_ops.CloseTransport(t) for t in (peer.pub_transport, peer.sub_transport) if t]

    def _deactivate(self, match: Any) -> None:
        for other in self.peers.values():
            for s in other.subscriptions:
                if s.active and match(s):
                    s.active = False

    def close(self) -> list[Op]:
        self.peers.clear()
        if not self.router_created:
            return []
        self.router_created = False
        return [contract_ops.CloseRouter(self.router_id)]

    # -- the plan --

    def reconcile(self, state: MeetingState) -> list[Op]:
        """Operations that make the engine follow `media_plan(state)`: closes first, then opens."""
        plan = media_plan(state)
        self.plan = plan
        closes: list[Op] = []
        opens: list[Op] = []
        present = {p.id for p in state.participants}
        for pid in [pid for pid in self.peers if pid not in present]:
            closes += self.drop(pid)
        for p in state.participants:
            self.peer(p.id)
        for peer in self.peers.values():
            for publication in peer.publications.values():
                want_open = plan.is_open(peer.pid, publication.source)
                if want_open == publication.paused:
                    publication.paused = not want_open
                    (opens if want_open else closes).append(
                        (contract_ops.ResumeProducer if want_open else contract_ops.PauseProducer)(
                            publication.producer_id))
        for sub in self.peers.values():
            existing = {(s.producer_id): s for s in sub.subscriptions if s.active}
            for pub in self.peers.values():
                if pub.pid == sub.pid:
                    continue
                for publication in pub.publications.values():
                    allowed = plan.may_receive(pub.pid, publication.source, sub.pid)
                    current = existing.get(publication.producer_id)
                    if current is not None:
                        if current.paused == allowed:
                            current.paused = not allowed
                            (opens if allowed else closes).append(
                                (contract_ops.ResumeConsumer if allowed else contract_ops.PauseConsumer)(
                                    current.consumer_id))
                    elif allowed:
                        opens += self._consume(sub, pub.pid, publication)
        return self._router() + closes + opens if (closes or opens) else closes + opens

    def _consume(self, sub: Peer, publisher: str, publication: Publication) -> list[Op]:
        ops: list[Op] = []
        if sub.sub_transport is None:
            sub.sub_transport = f"{sub.pid}.sub"
            ops.append(contract_ops.CreateWebRtcTransport(sub.sub_transport, self.router_id, sub.sub_ice[0],
                                                          sub.sub_ice[1]))
        used = {x for p in self.peers.values() for s in p.subscriptions for x in (s.ssrc, s.rtx_ssrc)}
        ssrc = random.randint(1, 0xFFFFFFFF)
        while ssrc in used:
            ssrc = random.randint(1, 0xFFFFFFFF)
        rtx_ssrc = None
        if publication.codec.rtx_payload_type is not None:
            rtx_ssrc = random.randint(1, 0xFFFFFFFF)
            while rtx_ssrc in used or rtx_ssrc == ssrc:
                rtx_ssrc = random.randint(1, 0xFFFFFFFF)
        n = sub.next_id()
        subscription = Subscription(f"{sub.pid}.c{n}", publisher, publication.source, publication.producer_id,
                                    publication.kind or KIND[publication.source].value,
                                    str(len(sub.subscriptions)), ssrc, publication.codec, paused=False,
                                    rtx_ssrc=rtx_ssrc)
        sub.subscriptions.append(subscription)
        sub.dirty = True
        ops.append(contract_ops.Consume(subscription.consumer_id, sub.sub_transport, publication.producer_id, ssrc,
                                        paused=False, rtx_ssrc=rtx_ssrc))
        return ops


def _connect_op(transport_id: str, connect: ConnectWebRtcTransport) -> Op:
    return contract_ops.ConnectWebRtcTransport(
        transport_id, connect.dtls_role, connect.remote_fingerprints,
        remote_ice_ufrag=connect.remote_ice_ufrag or None, remote_ice_pwd=connect.remote_ice_pwd or None)
