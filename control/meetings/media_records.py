"""The records of a meeting's engine objects as the control plane knows them: values (frozen
dataclasses, and `Peer`, copied before a change) that control.meetings.media computes changes to,
the commit pipeline swaps in once the engine acked them, and control.meetings.durable stores.

Engine object ids: the router is the meeting id; transports are ``<pid>.pub`` / ``<pid>.sub``;
producers ``<pid>.<source>.<n>``; consumers ``<subscriber>.c<n>``; while the meeting is recorded,
the plain transport to the recorder is ``<router>.rec`` and its consumers ``<router>.rec.<n>``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from contract import ops
from control.domain.roles import Source
from control.meetings.sdp import CodecParameters, HeaderExtensionIds
from control.meetings.ssrc import SsrcAllocator

Op = ops.Operation


@dataclass(frozen=True)
class Endpoint:
    """A worker as a meeting spanning it needs it."""

    fingerprints: list[tuple[str, str]]
    candidates: list[tuple[str, int]]
    address: tuple[str, int]
    """Its socket, where pipes from other workers send."""


@dataclass(frozen=True)
class Publication:
    """One producer of a participant."""

    producer_id: str
    source: Source
    kind: str
    mid: str
    codec: CodecParameters
    create: Op
    """The `produce` operation that made it (its gate as created: closed)."""
    paused: bool = True
    """The producer gate as the engine holds it (True: closed)."""
    layer_creates: tuple[Op, ...] = ()
    """A simulcast track's other layers (`produce` operations, lowest first after `producer_id`,
    which is its lowest layer): one engine producer per layer."""

    @property
    def layer_ids(self) -> tuple[str, ...]:
        """The engine producers of its layers, lowest first (one without simulcast)."""
        return (self.producer_id, *(op.id for op in self.layer_creates))


@dataclass(frozen=True)
class Subscription:
    """One consumer: a publisher's producer sent to this subscriber."""

    consumer_id: str
    publisher: str
    source: Source
    producer_id: str
    kind: str
    mid: str
    """The m-section (slot) of the subscriber's offer; a later consumer of the same kind may take it
    once this one is inactive and `released`."""
    ssrc: int
    codec: CodecParameters
    paused: bool
    create: Op
    """The `consume` operation that made it."""
    active: bool = True
    """False once its producer or publisher is gone (the m-section stays, `a=inactive`)."""
    rtx_ssrc: int | None = None
    """The consumer's RTX stream (RFC 4588), when the publisher's codec has RTX."""
    released: bool = False
    """Inactive, and the subscriber answered an offer saying so: the slot may take a new consumer
    (the receiver went through inactive, so it starts afresh for the next one)."""
    layer: int = 0
    """The simulcast layer it forwards (0: lowest); `create` names that layer's producer."""
    wants: int | None = None
    """The layer its tile and bandwidth ask for, when the publisher does not send that one now and
    `layer` is the one forwarded instead (control.domain.layers.sent_layer); None: `layer` itself.
    The publisher is still asked to encode it (control.domain.encodings)."""
    hidden: bool = False
    """The subscriber does not show it (control.domain.layers): paused whatever the plan allows."""
    size: tuple[int, int] | None = None
    """The tile size of its subscriber's last `view` (None: none yet), to choose again when the
    active speaker changes."""

    @property
    def wanted_layer(self) -> int:
        """The layer its subscriber should get: `wants`, else `layer`."""
        return self.layer if self.wants is None else self.wants


@dataclass(frozen=True)
class RecorderConsumer:
    """One producer sent to the recorder: the recorder names the track by the consumer's SSRC."""

    consumer_id: str
    producer_id: str
    publisher: str
    source: Source
    kind: str
    codec: CodecParameters
    ssrc: int
    create: Op

    @property
    def engine_producer(self) -> str:
        """The engine producer it forwards: a simulcast track's top layer (the recording's quality;
        control.meetings.encodings keeps it encoded while recorded), else the track's one producer."""
        assert isinstance(self.create, ops.Consume)
        return self.create.producer_id


@dataclass(frozen=True)
class RecorderFeed:
    """While the meeting is recorded: the plain transport whose remote is the recorder's loopback
    socket, and one consumer on it per producer of the meeting's first worker."""

    transport: Op
    """Its `create_plain_transport`."""
    consumers: tuple[RecorderConsumer, ...] = ()
    counter: int = 0
    epoch: str = ""
    """Random, per feed: the consumers' SSRCs are drawn from it, so a feed made again (the meeting
    moved to another worker while recorded) never reuses an SSRC the recorder already knows."""

    @property
    def transport_id(self) -> str:
        return self.transport.id

    def track(self, ssrc: int) -> RecorderConsumer | None:
        return next((c for c in self.consumers if c.ssrc == ssrc), None)


@dataclass
class Peer:
    """A participant's engine objects. Shared between records: change only a copy (`_Draft.peer`)."""

    pid: str
    worker: str | None = None
    """The engine worker holding this participant's objects; None: the meeting's first worker."""
    pub_transport: str | None = None
    pub_ice: tuple[str, str] = field(default_factory=lambda: (secrets.token_hex(4), secrets.token_hex(12)))
    pub_ops: tuple[Op, ...] = ()  # the publish transport's create and connect
    extensions: HeaderExtensionIds = field(default_factory=HeaderExtensionIds)
    extensions_op: Op | None = None
    publications: dict[Source, Publication] = field(default_factory=dict)
    sub_transport: str | None = None
    sub_ice: tuple[str, str] = field(default_factory=lambda: (secrets.token_hex(4), secrets.token_hex(12)))
    sub_ops: tuple[Op, ...] = ()  # the subscribe transport's create (and, once answered, connect)
    sub_extensions_op: Op | None = None
    """The ids the engine writes in what it sends the subscriber: those offered, then those agreed."""
    sub_connected: bool = False
    ssrcs: SsrcAllocator = field(default_factory=SsrcAllocator)
    """SSRCs of the consumers on the subscribe transport (control.meetings.ssrc)."""
    subscriptions: list[Subscription] = field(default_factory=list)
    offer_version: int = 0
    pending_offer: tuple[int, str] | None = None
    """(version, sdp) of the subscribe offer awaiting the client's answer."""
    pending_inactive: frozenset[str] = frozenset()
    """The mids that offer has inactive: released once it is answered."""
    dirty: bool = False
    """Consumers were added or ended since the last offer: the subscriber needs a new one."""
    counter: int = 0

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def transport_table(self) -> list[Op]:
        """Its transports as a worker's table holds them: each made, then told its extension ids."""
        told = (self.pub_ops, (self.extensions_op,), self.sub_ops, (self.sub_extensions_op,))
        return [op for ops_ in told for op in ops_ if op is not None]

    def producer_table(self) -> list[Op]:
        """Its producers (every simulcast layer) with their gates as the engine holds them."""
        return [replace(c, paused=p.paused) for p in self.publications.values() for c in (p.create, *p.layer_creates)]

    def copy(self) -> Peer:
        return replace(
            self, publications=dict(self.publications), subscriptions=list(self.subscriptions), ssrcs=self.ssrcs.copy()
        )


@dataclass(frozen=True)
class MediaRecords:
    """What the engine holds for one meeting, as far as the control plane knows (a value)."""

    peers: Mapping[str, Peer] = field(default_factory=lambda: MappingProxyType({}))
    router_created: bool = False
    workers: frozenset[str] = frozenset()
    """The other workers holding the meeting's router (it spans them: control.meetings.pipes)."""
    recorder: RecorderFeed | None = None
    """The feed to the recorder while the meeting is recorded (`MeetingState.recording`)."""
