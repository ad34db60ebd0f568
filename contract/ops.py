"""Typed table operations: one frozen dataclass per operation, checked when built, parsed from and
serialized to the wire's JSON objects (``{"op": "pause_producer", "id": "p1"}``).

Ids are the control plane's strings. Every operation names one object by `id`, of the tier its class
says (`Operation.tier`): a `Create` makes it, a `Close` closes it (idempotently, cascading like the
engine), the others change it. A batch (`Batch`, one ``{"type": "ops"}`` frame) carries them in order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from contract.framing import ProtocolError, is_id, parse_address, parse_pairs, require
from contract.vocabulary import CONSUMER, KINDS, PRODUCER, ROUTER, TRANSPORT

Check = Callable[[str, str, Any], Any]
"""(operation name, field name, value) → the value as stored; ProtocolError if it is wrong."""


# ---- field checks --------------------------------------------------------------------------------


def _id(op: str, name: str, value: object) -> str:
    require(is_id(value), f"{op}: {name} must be a non-empty printable string of at most 128 characters")
    return str(value)


def _int(lo: int, hi: int) -> Check:
    def check(op: str, name: str, value: object) -> int:
        require(type(value) is int and lo <= value <= hi, f"{op}: {name} must be an integer in [{lo}, {hi}]")
        assert isinstance(value, int)
        return value

    return check


def _text(limit: int) -> Check:
    def check(op: str, name: str, value: object) -> str:
        require(
            isinstance(value, str) and 0 < len(value) <= limit and value.isprintable(),
            f"{op}: {name} must be a non-empty string of at most {limit} characters",
        )
        return str(value)

    return check


def _choice(*choices: str) -> Check:
    def check(op: str, name: str, value: object) -> str:
        require(value in choices, f"{op}: {name} must be one of {', '.join(choices)}")
        return str(value)

    return check


SRTP_KEY_SALT_BYTES = {1: 30, 2: 30, 7: 28}
"""RFC 5764 SRTP profile → bytes of its master key ‖ master salt (AES-128 CM: 16 + 14; GCM: 16 + 12)."""


def _choice_int(*choices: int) -> Check:
    def check(op: str, name: str, value: object) -> int:
        require(type(value) is int and value in choices, f"{op}: {name} must be one of {', '.join(map(str, choices))}")
        assert isinstance(value, int)
        return value

    return check


def _hex(limit: int) -> Check:
    def check(op: str, name: str, value: object) -> str:
        require(
            isinstance(value, str)
            and 0 < len(value) <= limit
            and len(value) % 2 == 0
            and all(c in "0123456789abcdef" for c in value),
            f"{op}: {name} must be lowercase hex of at most {limit} digits",
        )
        return str(value)

    return check


def _bool(op: str, name: str, value: object) -> bool:
    require(isinstance(value, bool), f"{op}: {name} must be true or false")
    return bool(value)


def _remote(op: str, name: str, value: object) -> tuple[str, int]:
    host, port = parse_address(value, f"{op}: {name}")
    require(port > 0, f"{op}: {name} needs a port")
    return host, port


def _fingerprints(op: str, name: str, value: object) -> tuple[tuple[str, str], ...]:
    pairs = parse_pairs(value, f"{op}: {name}")
    require(len(pairs) > 0, f"{op}: {name} must not be empty")
    return tuple(pairs)


def _app_data(op: str, name: str, value: object) -> dict[str, str]:
    require(
        isinstance(value, dict)
        and len(value) <= 16
        and all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 64 and len(v) <= 256 for k, v in value.items()
        ),
        f"{op}: {name} must be an object of at most 16 strings",
    )
    assert isinstance(value, dict)
    return dict(value)


def _optional(check: Check) -> Check:
    def optional(op: str, name: str, value: object) -> Any:
        return None if value is None else check(op, name, value)

    return optional


CODECS = ("vp8", "vp9", "h264")
"""Video codecs whose keyframes the engine tells apart (Produce.codec)."""
_U32 = _int(1, 0xFFFFFFFF)
_PT = _int(0, 127)
_EXT = _int(1, 255)


def _field(check: Check, **options: Any) -> Any:
    return field(metadata={"check": check}, **options)


_CHECKS: dict[type[Operation], tuple[tuple[str, Check], ...]] = {}


def _checks(cls: type[Operation]) -> tuple[tuple[str, Check], ...]:
    checks = _CHECKS.get(cls)
    if checks is None:
        checks = _CHECKS[cls] = tuple((f.name, f.metadata["check"]) for f in dataclasses.fields(cls))
    return checks


def _plain(value: Any) -> Any:
    """The JSON form of a field: tuples as lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value


# ---- operations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One table operation; its fields are checked when it is built (ProtocolError otherwise)."""

    name: ClassVar[str]
    """The operation's name on the wire ("op")."""
    tier: ClassVar[str]
    """The type of the object `id` names: router, transport, producer or consumer."""

    id: str = _field(_id)

    def __post_init__(self) -> None:
        for name, check in _checks(type(self)):
            value = getattr(self, name)
            checked = check(self.name, name, value)
            if checked is not value:
                object.__setattr__(self, name, checked)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"op": self.name}
        for name, _ in _checks(type(self)):
            wire[name] = _plain(getattr(self, name))
        return wire


@dataclass(frozen=True)
class Create(Operation):
    """Creates the object `id`."""

    def parents(self) -> tuple[tuple[str, str], ...]:
        """(id, tier) of the objects this one needs, its container first; closing any closes it."""
        return ()


@dataclass(frozen=True)
class Close(Operation):
    """Closes the object `id` and what closing it closes; closing what is not there is fine."""


@dataclass(frozen=True)
class SetGate(Operation):
    """Closes or opens the gate of a producer or consumer."""

    paused: ClassVar[bool]
    """The gate as it is after the operation (True: closed)."""


@dataclass(frozen=True)
class CreateRouter(Create):
    name = "create_router"
    tier = ROUTER


@dataclass(frozen=True)
class CloseRouter(Close):
    name = "close_router"
    tier = ROUTER


@dataclass(frozen=True)
class CreatePlainTransport(Create):
    name = "create_plain_transport"
    tier = TRANSPORT

    router_id: str = _field(_id)
    remote: tuple[str, int] = _field(_remote)
    """Where the transport sends RTP (plain RTP has no ICE)."""
    pipe: bool = _field(_bool, default=False)
    """A pipe to another worker: it carries producers of every meeting the two workers share, so
    its producers may be consumed in any router, and it may consume producers of any router (the
    control plane keeps meetings apart). One pipe per peer worker: its address names it."""
    srtp_profile: int | None = _field(_optional(_choice_int(*SRTP_KEY_SALT_BYTES)), default=None)
    """SRTP on this transport (RFC 5764 numbering: 1 AES128_CM_SHA1_80, 2 AES128_CM_SHA1_32, 7
    AEAD_AES_128_GCM), keyed by the control plane (a pipe between hosts); None: plain RTP."""
    srtp_local_key: str | None = _field(_optional(_hex(60)), default=None)
    """Master key ‖ salt it encrypts with, hex; the peer's `srtp_remote_key`."""
    srtp_remote_key: str | None = _field(_optional(_hex(60)), default=None)
    """Master key ‖ salt the peer encrypts with, hex."""

    def __post_init__(self) -> None:
        super().__post_init__()
        keyed = (self.srtp_profile, self.srtp_local_key, self.srtp_remote_key)
        require(
            all(k is None for k in keyed) or all(k is not None for k in keyed),
            f"{self.name}: SRTP needs a profile and both keys",
        )
        if self.srtp_profile is not None:
            length = 2 * SRTP_KEY_SALT_BYTES[self.srtp_profile]
            require(
                len(self.srtp_local_key or "") == len(self.srtp_remote_key or "") == length,
                f"{self.name}: SRTP profile {self.srtp_profile} keys are {length} hex digits",
            )

    def parents(self) -> tuple[tuple[str, str], ...]:
        return ((self.router_id, ROUTER),)


@dataclass(frozen=True)
class CreateWebRtcTransport(Create):
    name = "create_webrtc_transport"
    tier = TRANSPORT

    router_id: str = _field(_id)
    ice_ufrag: str = _field(_text(256))
    """The transport's local ICE credentials (ICE-lite: the peer checks them)."""
    ice_pwd: str = _field(_text(256))

    def parents(self) -> tuple[tuple[str, str], ...]:
        return ((self.router_id, ROUTER),)


@dataclass(frozen=True)
class ConnectWebRtcTransport(Operation):
    """Gives a WebRTC transport its peer's DTLS parameters (once)."""

    name = "connect_webrtc_transport"
    tier = TRANSPORT

    dtls_role: str = _field(_choice("server", "client"))
    """Our DTLS role."""
    remote_fingerprints: tuple[tuple[str, str], ...] = _field(_fingerprints)
    """(algorithm, value) of the peer's certificate."""
    remote_ice_ufrag: str | None = _field(_optional(_text(256)), default=None)
    remote_ice_pwd: str | None = _field(_optional(_text(256)), default=None)


@dataclass(frozen=True)
class SetHeaderExtensions(Operation):
    """The RTP header extension ids negotiated with the transport's peer, one id space both ways:
    read in what it sends (MID/RID learn SSRCs, audio-level feeds the dominant speaker), written in
    what it receives (each consumer's MID, and these ids only; other extensions are dropped)."""

    name = "set_header_extensions"
    tier = TRANSPORT

    mid: int | None = _field(_optional(_EXT), default=None)
    rid: int | None = _field(_optional(_EXT), default=None)
    repaired_rid: int | None = _field(_optional(_EXT), default=None)
    abs_send_time: int | None = _field(_optional(_EXT), default=None)
    audio_level: int | None = _field(_optional(_EXT), default=None)
    transport_cc: int | None = _field(_optional(_EXT), default=None)

    def __post_init__(self) -> None:
        super().__post_init__()
        ids = [
            i
            for i in (self.mid, self.rid, self.repaired_rid, self.abs_send_time, self.audio_level, self.transport_cc)
            if i is not None
        ]
        require(len(ids) == len(set(ids)), "set_header_extensions: an id names one extension only")


@dataclass(frozen=True)
class CloseTransport(Close):
    name = "close_transport"
    tier = TRANSPORT


@dataclass(frozen=True)
class Produce(Create):
    """An incoming track on a transport."""

    name = "produce"
    tier = PRODUCER

    transport_id: str = _field(_id)
    kind: str = _field(_choice(*KINDS))
    payload_type: int = _field(_PT)
    app_data: dict[str, str] = _field(_app_data, default_factory=dict)  # noqa: RUF009 - a field() spec
    """Opaque to the engine: it stores and reports it (the control plane keeps its source there)."""
    ssrc: int | None = _field(_optional(_U32), default=None)
    """None: learned from the first packet naming `mid` (and `rid`)."""
    mid: str | None = _field(_optional(_text(32)), default=None)
    rid: str | None = _field(_optional(_text(32)), default=None)
    clock_rate: int | None = _field(_optional(_int(1, 10_000_000)), default=None)
    """None: the kind's usual rate."""
    paused: bool = _field(_bool, default=False)
    rtx_ssrc: int | None = _field(_optional(_U32), default=None)
    rtx_payload_type: int | None = _field(_optional(_PT), default=None)
    codec: str | None = _field(_optional(_choice(*CODECS)), default=None)
    """The video codec, where the engine tells its keyframes apart (a simulcast layer switches
    there); None: the engine does not look (a switch takes effect at the next packet)."""
    below_top: bool = _field(_bool, default=False)
    """A simulcast layer with a higher layer in its track: a subscriber forwarded it could receive
    more with more bandwidth, so the engine probes that subscriber's link (engine/probe.pxi)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.ssrc is not None or self.mid is not None or self.rid is not None,
            "produce: needs an ssrc, or a mid or rid to learn it by",
        )

    def parents(self) -> tuple[tuple[str, str], ...]:
        return ((self.transport_id, TRANSPORT),)


@dataclass(frozen=True)
class CloseProducer(Close):
    name = "close_producer"
    tier = PRODUCER


@dataclass(frozen=True)
class PauseProducer(SetGate):
    name = "pause_producer"
    tier = PRODUCER
    paused = True


@dataclass(frozen=True)
class ResumeProducer(SetGate):
    name = "resume_producer"
    tier = PRODUCER
    paused = False


@dataclass(frozen=True)
class RequestKeyframe(Operation):
    """Asks the producer's sender for a keyframe (its result says whether a request went out)."""

    name = "request_keyframe"
    tier = PRODUCER


@dataclass(frozen=True)
class Consume(Create):
    """An outgoing copy of a producer to a transport of the same router."""

    name = "consume"
    tier = CONSUMER

    transport_id: str = _field(_id)
    producer_id: str = _field(_id)
    ssrc: int = _field(_U32)
    """The consumer's SSRC, unique on its transport (the control plane chooses it)."""
    payload_type: int | None = _field(_optional(_PT), default=None)
    """None: the producer's."""
    paused: bool = _field(_bool, default=False)
    rtx_ssrc: int | None = _field(_optional(_U32), default=None)
    """The RTX stream's SSRC; None: allocated by the engine when the producer has RTX."""
    rtx_payload_type: int | None = _field(_optional(_PT), default=None)
    mid: str | None = _field(_optional(_text(16)), default=None)
    """The subscriber's m-section for this consumer: its packets carry it as sdes:mid (where the
    transport's header extensions name an id for it)."""

    def parents(self) -> tuple[tuple[str, str], ...]:
        return ((self.transport_id, TRANSPORT), (self.producer_id, PRODUCER))


@dataclass(frozen=True)
class CloseConsumer(Close):
    name = "close_consumer"
    tier = CONSUMER


@dataclass(frozen=True)
class PauseConsumer(SetGate):
    name = "pause_consumer"
    tier = CONSUMER
    paused = True


@dataclass(frozen=True)
class ResumeConsumer(SetGate):
    name = "resume_consumer"
    tier = CONSUMER
    paused = False


@dataclass(frozen=True)
class SwitchConsumer(Operation):
    """Makes the consumer forward another producer of its kind, keeping its SSRC and sequence."""

    name = "switch_consumer"
    tier = CONSUMER

    producer_id: str = _field(_id)
    at_keyframe: bool = _field(_bool, default=False)
    """A simulcast layer switch: the consumer keeps forwarding its current producer until the new
    one's next keyframe (which the engine asks for)."""


OPERATIONS: dict[str, type[Operation]] = {
    cls.name: cls
    for cls in (
        CreateRouter,
        CloseRouter,
        CreatePlainTransport,
        CreateWebRtcTransport,
        ConnectWebRtcTransport,
        SetHeaderExtensions,
        CloseTransport,
        Produce,
        CloseProducer,
        PauseProducer,
        ResumeProducer,
        RequestKeyframe,
        Consume,
        CloseConsumer,
        PauseConsumer,
        ResumeConsumer,
        SwitchConsumer,
    )
}
"""Wire name → operation class."""

SYNC_TYPES: tuple[type[Operation], ...] = (Create, ConnectWebRtcTransport, SetHeaderExtensions)
"""The only operations a sync batch may hold."""

CLOSE: dict[str, type[Close]] = {
    CloseRouter.tier: CloseRouter,
    CloseTransport.tier: CloseTransport,
    CloseProducer.tier: CloseProducer,
    CloseConsumer.tier: CloseConsumer,
}
"""Tier → the operation closing an object of it."""

GATE: dict[tuple[str, bool], type[SetGate]] = {
    (cls.tier, cls.paused): cls for cls in (PauseProducer, ResumeProducer, PauseConsumer, ResumeConsumer)
}
"""(tier, paused) → the operation setting a gate so."""

_FIELDS: dict[type[Operation], tuple[frozenset[str], frozenset[str]]] = {
    cls: (
        frozenset(f.name for f in dataclasses.fields(cls)) | {"op"},
        frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ),
    )
    for cls in OPERATIONS.values()
}
"""Operation class → (the keys its wire object may have, those it must have)."""


def parse_op(raw: object) -> Operation:
    """The operation a wire object describes, every field checked; ProtocolError otherwise."""
    require(isinstance(raw, dict), "an operation must be a JSON object")
    assert isinstance(raw, dict)
    name = raw.get("op")
    require(isinstance(name, str), 'an operation needs a string "op"')
    cls = OPERATIONS.get(name)  # type: ignore[arg-type]
    if cls is None:
        raise ProtocolError(f"unknown operation {name!r}")
    known, required = _FIELDS[cls]
    keys = raw.keys()
    if not keys <= known:
        raise ProtocolError(f"{name}: unknown field {min(keys - known)!r}")
    if not required <= keys:
        raise ProtocolError(f"{name}: {min(required - keys)} is required")
    fields = dict(raw)
    del fields["op"]
    return cls(**fields)


# ---- batches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One {"type": "ops"} frame: operations the worker applies in order, then acks as `version`.

    A `sync` batch lists a whole table (creates and connects, in `Table.dump` order): the worker
    makes its table exactly that one, keeping the objects it already has with the same identity."""

    epoch: str
    """Names the control plane's life (a new one after each restart)."""
    version: int
    sync: bool
    ops: list[Any]
    """As received: each operation is parsed on its own (`parse_op`), so one bad one fails alone."""

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "ops",
            "epoch": self.epoch,
            "version": self.version,
            "sync": self.sync,
            "ops": [op.to_wire() if isinstance(op, Operation) else op for op in self.ops],
        }


def parse_batch(message: dict[str, Any]) -> Batch:
    require(message.get("type") == "ops", "expected ops")
    epoch, version = message.get("epoch"), message.get("version")
    sync, ops = message.get("sync", False), message.get("ops")
    require(isinstance(epoch, str) and len(epoch) <= 128, "ops has a bad epoch")
    require(type(version) is int and version > 0, "ops has a bad version")
    require(isinstance(sync, bool), "ops has a bad sync flag")
    require(isinstance(ops, list), "ops must be a list")
    assert isinstance(epoch, str) and isinstance(version, int) and isinstance(ops, list)
    return Batch(epoch, version, bool(sync), ops)
