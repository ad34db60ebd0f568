"""The engine channel's wire format: messages, table operations, the table they build, the handshake.

Shared by both ends: the worker (`engine.channel`) and the control plane (`control.engines`, which
may import this module: it is part of the engine's public API). No I/O and no clock here.

One WebSocket connection per worker, dialled by the worker; every frame is one JSON object (text)
with a ``"type"``::

    control → worker   {"type": "challenge", "protocol": 1, "nonce": N1}
    worker → control   {"type": "hello", "protocol": 1, "worker_id": W, "nonce": N2, "proof": P,
                        "address": [host, port], "candidates": [[host, port]],
                        "dtls_fingerprints": [["sha-256", "AB:.."]], "capabilities": ["plain", ...],
                        "table": {"epoch": E, "version": V, "ops": [...]}}
    control → worker   {"type": "welcome", "epoch": E, "proof": P'}
    control → worker   {"type": "ops", "epoch": E, "version": V, "sync": false, "ops": [...]}
    worker → control   {"type": "ack", "version": V, "results": [{"ok": true}, {"ok": false, ...}]}
    worker → control   {"type": "event", "event": "transport_state", ...}
    worker → control   {"type": "stats", "engine": {...}, "table": {"routers": 1, ...}}
    either way         {"type": "error", "code": "malformed", "message": "..."}

Authentication: the secret never crosses the wire. ``proof`` is HMAC-SHA256(secret, context, N1, N2,
W) with a different context for each direction, so the control plane proves it knows the secret too
(`hello_proof`, `welcome_proof`); proofs are compared in constant time.

Versions: the control plane numbers each batch; the worker applies a batch's operations in order,
synchronously in its loop (between two packet batches), then acks that version with one result per
operation. A failed operation does not stop the batch and never stops the worker: its result says
why (``{"ok": false, "error": "unknown_id", "message": "..."}``) and the table is left as if that one
operation had not been sent. Both ends fold the successful operations into the same pure `Table`, so
they agree on the table after every ack.

A ``"sync": true`` batch lists a whole table (creates and connects, in `Table.dump` order): the
worker makes its table exactly that one, keeping the objects it already has with the same identity
(so media keeps flowing through them) and closing or creating the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from engine import KINDS, SOURCES

PROTOCOL = 1
"""Version of this wire format; a peer speaking another one is refused (CLOSE_PROTOCOL_ERROR)."""

MAX_FRAME_BYTES = 16 * 1024 * 1024
"""The largest frame either end accepts (a sync of a big table is one frame)."""

# WebSocket close codes (RFC 6455 leaves 4000-4999 to applications)
CLOSE_GOING_AWAY = 1001
CLOSE_AUTH_FAILED = 4001
"""Wrong secret (or none configured on the control plane)."""
CLOSE_PROTOCOL_ERROR = 4002
"""A broken or late handshake, or an unsupported protocol version."""
CLOSE_TOO_MANY_ERRORS = 4003
"""Too many malformed frames after the handshake."""
CLOSE_REPLACED = 4004
"""A newer connection with the same worker id took over."""

_HELLO_CONTEXT = b"podium-engine-channel/1 worker"
_WELCOME_CONTEXT = b"podium-engine-channel/1 control"

# object types of the table, in dependency order: a parent is always of an earlier tier
ROUTER, TRANSPORT, PRODUCER, CONSUMER = "router", "transport", "producer", "consumer"
TIERS = (ROUTER, TRANSPORT, PRODUCER, CONSUMER)

CREATE_OPS = {
    "create_router": ROUTER,
    "create_plain_transport": TRANSPORT,
    "create_webrtc_transport": TRANSPORT,
    "produce": PRODUCER,
    "consume": CONSUMER,
}
CLOSE_OPS = {
    "close_router": ROUTER,
    "close_transport": TRANSPORT,
    "close_producer": PRODUCER,
    "close_consumer": CONSUMER,
}
SYNC_OPS = frozenset(CREATE_OPS) | {"connect_webrtc_transport", "set_header_extensions"}
"""The only operations a sync batch may hold."""

# error codes of operation results
E_INVALID = "invalid"
"""The operation is malformed (unknown name, missing or wrong field)."""
E_UNKNOWN_ID = "unknown_id"
E_DUPLICATE_ID = "duplicate_id"
E_WRONG_TYPE = "wrong_type"
"""The id names an object of another type (a router given as a transport...)."""
E_WRONG_ROUTER = "wrong_router"
"""A consumer and its producer must be in the same router."""
E_CONFLICT = "conflict"
"""The operation contradicts the table (connect twice, switch to another kind, SSRC taken)."""
E_UNSUPPORTED = "unsupported"
"""This worker's engine lacks the feature (see the hello's capabilities)."""
E_REFUSED = "refused"
"""The engine refused it (its message says why)."""
E_INTERNAL = "internal"
"""The engine failed unexpectedly; logged on the worker."""


class ProtocolError(ValueError):
    """A frame or an operation that does not follow this format."""


class TableError(Exception):
    """An operation the table refuses; `code` is one of the E_* result codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- framing ---------------------------------------------------------------------------------


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def decode(frame: str | bytes) -> dict[str, Any]:
    """One frame as a JSON object with a string "type"; ProtocolError otherwise."""
    if isinstance(frame, bytes):
        raise ProtocolError("binary frames are not part of the engine channel")
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        raise ProtocolError("frame is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    if not isinstance(message.get("type"), str):
        raise ProtocolError('frame has no string "type"')
    return message


def error_frame(code: str, message: str) -> str:
    return encode({"type": "error", "code": code, "message": message[:500]})


def ok() -> dict[str, Any]:
    return {"ok": True}


def failed(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message[:500]}


# ---- handshake -------------------------------------------------------------------------------


def _proof(context: bytes, secret: str, server_nonce: str, worker_nonce: str, worker_id: str) -> str:
    data = b"\x00".join([context, server_nonce.encode(), worker_nonce.encode(), worker_id.encode()])
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def hello_proof(secret: str, server_nonce: str, worker_nonce: str, worker_id: str) -> str:
    """What the worker sends to prove it knows the secret."""
    return _proof(_HELLO_CONTEXT, secret, server_nonce, worker_nonce, worker_id)


def welcome_proof(secret: str, server_nonce: str, worker_nonce: str, worker_id: str) -> str:
    """What the control plane sends back to prove it knows the secret too."""
    return _proof(_WELCOME_CONTEXT, secret, server_nonce, worker_nonce, worker_id)


def proofs_match(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class TableReport:
    """The table a worker has, as it says in its hello."""

    epoch: str | None
    """Epoch of the control plane that last set it (None: never set since the worker started)."""
    version: int
    """Version of the last batch applied (0: none)."""
    ops: list[dict[str, Any]] = field(default_factory=list)
    """The table itself, in `Table.dump` form."""


@dataclass(frozen=True)
class Hello:
    worker_id: str
    nonce: str
    proof: str
    address: tuple[str, int]
    """The worker's UDP socket."""
    candidates: list[tuple[str, int]]
    """ICE host candidates (the same socket, as peers should reach it)."""
    dtls_fingerprints: list[tuple[str, str]]
    """Fingerprints of the worker's DTLS certificate (empty without WebRTC support)."""
    capabilities: list[str]
    """"plain", "webrtc", ..."""
    table: TableReport


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)


def _address(value: object, what: str) -> tuple[str, int]:
    _check(isinstance(value, (list, tuple)) and len(value) == 2, f"{what} must be [host, port]")
    assert isinstance(value, (list, tuple))
    host, port = value
    _check(isinstance(host, str) and 0 < len(host) <= 255, f"{what} has a bad host")
    _check(type(port) is int and 0 <= port <= 65535, f"{what} has a bad port")
    return host, port


def _pairs(value: object, what: str) -> list[tuple[str, str]]:
    _check(isinstance(value, list) and len(value) <= 16, f"{what} must be a list of pairs")
    assert isinstance(value, list)
    out = []
    for item in value:
        _check(isinstance(item, (list, tuple)) and len(item) == 2
               and all(isinstance(x, str) and 0 < len(x) <= 256 for x in item), f"{what} must be a list of pairs")
        out.append((item[0], item[1]))
    return out


def parse_hello(message: dict[str, Any]) -> Hello:
    _check(message.get("type") == "hello", "expected a hello")
    _check(message.get("protocol") == PROTOCOL, f"unsupported protocol {message.get('protocol')!r} (want {PROTOCOL})")
    worker_id = message.get("worker_id")
    _check(_is_id(worker_id), "hello has a bad worker_id")
    nonce, proof = message.get("nonce"), message.get("proof")
    _check(isinstance(nonce, str) and 16 <= len(nonce) <= 128, "hello has a bad nonce")
    _check(isinstance(proof, str) and len(proof) <= 128, "hello has a bad proof")
    address = _address(message.get("address"), "address")
    raw_candidates = message.get("candidates", [])
    _check(isinstance(raw_candidates, list) and len(raw_candidates) <= 64, "candidates must be a list")
    candidates = [_address(c, "candidate") for c in raw_candidates]
    fingerprints = _pairs(message.get("dtls_fingerprints", []), "dtls_fingerprints")
    capabilities = message.get("capabilities", [])
    _check(isinstance(capabilities, list) and all(isinstance(c, str) for c in capabilities),
           "capabilities must be a list of strings")
    table = message.get("table", {})
    _check(isinstance(table, dict), "table must be an object")
    epoch, version, ops = table.get("epoch"), table.get("version", 0), table.get("ops", [])
    _check(epoch is None or isinstance(epoch, str), "table epoch must be a string")
    _check(type(version) is int and version >= 0, "table version must be a natural number")
    _check(isinstance(ops, list), "table ops must be a list")
    return Hello(str(worker_id), nonce, proof, address, candidates, fingerprints, list(capabilities),
                 TableReport(epoch, version, ops))


@dataclass(frozen=True)
class Batch:
    """One {"type": "ops"} frame."""

    epoch: str
    version: int
    sync: bool
    ops: list[Any]
    """As received: each operation is validated on its own (`validate_op`)."""


def parse_batch(message: dict[str, Any]) -> Batch:
    _check(message.get("type") == "ops", "expected ops")
    epoch, version, sync, ops = message.get("epoch"), message.get("version"), message.get("sync", False), message.get("ops")
    _check(isinstance(epoch, str) and len(epoch) <= 128, "ops has a bad epoch")
    _check(type(version) is int and version > 0, "ops has a bad version")
    _check(isinstance(sync, bool), "ops has a bad sync flag")
    _check(isinstance(ops, list), "ops must be a list")
    return Batch(epoch, version, sync, ops)


@dataclass(frozen=True)
class Ack:
    """One {"type": "ack"} frame: the batch `version` is in force."""

    version: int
    results: list[dict[str, Any]]
    """One per operation: {"ok": true, ...} or {"ok": false, "error": code, "message": text}."""

    @property
    def ok(self) -> bool:
        return all(r.get("ok") for r in self.results)

    def errors(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, r) for i, r in enumerate(self.results) if not r.get("ok")]


def parse_ack(message: dict[str, Any]) -> Ack:
    _check(message.get("type") == "ack", "expected an ack")
    version, results = message.get("version"), message.get("results")
    _check(type(version) is int and version > 0, "ack has a bad version")
    _check(isinstance(results, list) and all(isinstance(r, dict) and isinstance(r.get("ok"), bool) for r in results),
           "ack results must be a list of {ok: bool, ...}")
    return Ack(version, results)


# ---- operations ------------------------------------------------------------------------------


def _is_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable()


_REQUIRED = object()


def _id(op: str, name: str, value: object) -> str:
    _check(_is_id(value), f"{op}: {name} must be a non-empty printable string of at most 128 characters")
    return str(value)


def _int(lo: int, hi: int) -> Any:
    def check(op: str, name: str, value: object) -> int:
        _check(type(value) is int and lo <= value <= hi, f"{op}: {name} must be an integer in [{lo}, {hi}]")
        return int(value)  # type: ignore[call-overload]
    return check


def _text(limit: int) -> Any:
    def check(op: str, name: str, value: object) -> str:
        _check(isinstance(value, str) and 0 < len(value) <= limit and value.isprintable(),
               f"{op}: {name} must be a non-empty string of at most {limit} characters")
        return str(value)
    return check


def _choice(*choices: str) -> Any:
    def check(op: str, name: str, value: object) -> str:
        _check(value in choices, f"{op}: {name} must be one of {', '.join(choices)}")
        return str(value)
    return check


def _bool(op: str, name: str, value: object) -> bool:
    _check(isinstance(value, bool), f"{op}: {name} must be true or false")
    return bool(value)


def _remote(op: str, name: str, value: object) -> list[Any]:
    host, port = _address(value, f"{op}: {name}")
    _check(port > 0, f"{op}: {name} needs a port")
    return [host, port]


def _fingerprints(op: str, name: str, value: object) -> list[list[str]]:
    pairs = _pairs(value, f"{op}: {name}")
    _check(len(pairs) > 0, f"{op}: {name} must not be empty")
    return [[a, b] for a, b in pairs]


def _optional(check: Any) -> Any:
    def optional(op: str, name: str, value: object) -> Any:
        return None if value is None else check(op, name, value)
    return optional


_U32 = _int(1, 0xFFFFFFFF)
_PT = _int(0, 127)
_EXT = _int(1, 255)

# name → {field: (check, default)}; _REQUIRED marks a field without a default
OP_FIELDS: dict[str, dict[str, tuple[Any, Any]]] = {
    "create_router": {"id": (_id, _REQUIRED)},
    "close_router": {"id": (_id, _REQUIRED)},
    "create_plain_transport": {"id": (_id, _REQUIRED), "router_id": (_id, _REQUIRED),
                               "remote": (_remote, _REQUIRED)},
    "create_webrtc_transport": {"id": (_id, _REQUIRED), "router_id": (_id, _REQUIRED),
                                "ice_ufrag": (_text(256), _REQUIRED), "ice_pwd": (_text(256), _REQUIRED)},
    "connect_webrtc_transport": {"id": (_id, _REQUIRED), "dtls_role": (_choice("server", "client"), _REQUIRED),
                                 "remote_fingerprints": (_fingerprints, _REQUIRED),
                                 "remote_ice_ufrag": (_optional(_text(256)), None),
                                 "remote_ice_pwd": (_optional(_text(256)), None)},
    "set_header_extensions": {"id": (_id, _REQUIRED), "mid": (_optional(_EXT), None), "rid": (_optional(_EXT), None),
                              "repaired_rid": (_optional(_EXT), None)},
    "close_transport": {"id": (_id, _REQUIRED)},
    "produce": {"id": (_id, _REQUIRED), "transport_id": (_id, _REQUIRED), "kind": (_choice(*KINDS), _REQUIRED),
                "source": (_optional(_choice(*SOURCES)), None), "ssrc": (_optional(_U32), None),
                "mid": (_optional(_text(32)), None), "rid": (_optional(_text(32)), None),
                "payload_type": (_PT, _REQUIRED), "clock_rate": (_optional(_int(1, 10_000_000)), None),
                "paused": (_bool, False), "rtx_ssrc": (_optional(_U32), None),
                "rtx_payload_type": (_optional(_PT), None)},
    "close_producer": {"id": (_id, _REQUIRED)},
    "pause_producer": {"id": (_id, _REQUIRED)},
    "resume_producer": {"id": (_id, _REQUIRED)},
    "request_keyframe": {"id": (_id, _REQUIRED)},
    "consume": {"id": (_id, _REQUIRED), "transport_id": (_id, _REQUIRED), "producer_id": (_id, _REQUIRED),
                "ssrc": (_optional(_U32), None), "payload_type": (_optional(_PT), None), "paused": (_bool, False),
                "rtx_ssrc": (_optional(_U32), None), "rtx_payload_type": (_optional(_PT), None)},
    "close_consumer": {"id": (_id, _REQUIRED)},
    "pause_consumer": {"id": (_id, _REQUIRED)},
    "resume_consumer": {"id": (_id, _REQUIRED)},
    "switch_consumer": {"id": (_id, _REQUIRED), "producer_id": (_id, _REQUIRED)},
}


def validate_op(raw: object) -> dict[str, Any]:
    """The operation with every field checked and defaults filled in; ProtocolError otherwise."""
    _check(isinstance(raw, dict), "an operation must be a JSON object")
    assert isinstance(raw, dict)
    name = raw.get("op")
    _check(isinstance(name, str) and name in OP_FIELDS, f"unknown operation {name!r}" if isinstance(name, str)
           else 'an operation needs a string "op"')
    fields = OP_FIELDS[name]
    unknown = sorted(set(raw) - set(fields) - {"op"})
    _check(not unknown, f"{name}: unknown field {unknown[0]!r}" if unknown else "")
    op: dict[str, Any] = {"op": name}
    for key, (check, default) in fields.items():
        if key not in raw:
            _check(default is not _REQUIRED, f"{name}: {key} is required")
            op[key] = default
        else:
            op[key] = check(name, key, raw[key])
    if name == "produce":
        _check(op["ssrc"] is not None or op["mid"] is not None or op["rid"] is not None,
               "produce: needs an ssrc, or a mid or rid to learn it by")
    return op


# ---- the table -------------------------------------------------------------------------------

_MUTABLE = frozenset({"paused", "producer_id"})


class Table:
    """A worker's forwarding table as plain data: id → the create operation that made the object,
    with its mutable fields (paused, a consumer's producer_id) kept current, a WebRTC transport's
    connect parameters under "connect" and a transport's header extension ids under "extensions". Both ends fold the same successful operations into one, so
    the control plane's desired table and the worker's mirror agree after every ack."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        """id → {"type": ROUTER..., "op": create op, "connect": connect op or None,
        "extensions": set_header_extensions op or None, "kind": a consumer's kind}"""

    @classmethod
    def from_ops(cls, ops: list[dict[str, Any]]) -> Table:
        """The table these (validated) operations build; raises TableError on the first refused one."""
        table = cls()
        for op in ops:
            table.apply(op)
        return table

    def copy(self) -> Table:
        table = Table()
        table.objects = {k: {**v, "op": dict(v["op"])} for k, v in self.objects.items()}
        return table

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self.objects == other.objects

    def __len__(self) -> int:
        return len(self.objects)

    def ids(self, kind: str) -> list[str]:
        return [oid for oid, record in self.objects.items() if record["type"] == kind]

    def counts(self) -> dict[str, int]:
        counts = {f"{kind}s": 0 for kind in TIERS}
        for record in self.objects.values():
            counts[record["type"] + "s"] += 1
        return counts

    def router_of(self, oid: str) -> str | None:
        record = self.objects.get(oid)
        while record is not None and record["type"] != ROUTER:
            op = record["op"]
            oid = op.get("transport_id") or op.get("router_id")
            record = self.objects.get(oid)
        return oid if record is not None else None

    def dump(self) -> list[dict[str, Any]]:
        """Operations that build this table on an empty worker: creates by tier (so parents come
        first, whatever order switches left them in), each transport's connect and header
        extensions right after it."""
        ops: list[dict[str, Any]] = []
        for tier in TIERS:
            for record in self.objects.values():
                if record["type"] == tier:
                    ops.append(dict(record["op"]))
                    for extra in ("connect", "extensions"):
                        if record.get(extra) is not None:
                            ops.append(dict(record[extra]))
        return ops

    def identity(self, oid: str) -> dict[str, Any]:
        """What cannot change without recreating the object (everything but its mutable fields)."""
        record = self.objects[oid]
        return {k: v for k, v in record["op"].items() if k not in _MUTABLE}

    # -- operations --

    def apply(self, op: dict[str, Any]) -> None:
        self.check(op)
        self.commit(op)

    def _get(self, oid: str, kind: str, what: str = "id") -> dict[str, Any]:
        record = self.objects.get(oid)
        if record is None:
            raise TableError(E_UNKNOWN_ID, f"no {kind} {oid!r}" if what == "id" else f"{what}: no {kind} {oid!r}")
        if record["type"] != kind:
            raise TableError(E_WRONG_TYPE, f"{oid!r} is a {record['type']}, not a {kind}")
        return record

    def check(self, op: dict[str, Any]) -> None:
        """Raises TableError if `op` (validated) cannot apply to this table."""
        name, oid = op["op"], op["id"]
        if name in CREATE_OPS:
            if oid in self.objects:
                raise TableError(E_DUPLICATE_ID, f"{oid!r} already exists (a {self.objects[oid]['type']})")
            if "router_id" in op:
                self._get(op["router_id"], ROUTER, "router_id")
            if "transport_id" in op:
                self._get(op["transport_id"], TRANSPORT, "transport_id")
            if name == "produce" and op["ssrc"] is not None:
                for record in self.objects.values():
                    other = record["op"]
                    if (record["type"] == PRODUCER and other["transport_id"] == op["transport_id"]
                            and other["ssrc"] == op["ssrc"]):
                        raise TableError(E_CONFLICT, f"ssrc {op['ssrc']} is already produced on this transport")
            if name == "consume":
                self._get(op["producer_id"], PRODUCER, "producer_id")
                if self.router_of(op["producer_id"]) != self.router_of(op["transport_id"]):
                    raise TableError(E_WRONG_ROUTER, "a consumer must be in its producer's router")
        elif name in CLOSE_OPS:
            record = self.objects.get(oid)
            if record is not None and record["type"] != CLOSE_OPS[name]:
                raise TableError(E_WRONG_TYPE, f"{oid!r} is a {record['type']}, not a {CLOSE_OPS[name]}")
        elif name == "connect_webrtc_transport":
            record = self._get(oid, TRANSPORT)
            if record["op"]["op"] != "create_webrtc_transport":
                raise TableError(E_WRONG_TYPE, f"{oid!r} is not a WebRTC transport")
            if record.get("connect") is not None:
                raise TableError(E_CONFLICT, f"transport {oid!r} is already connected")
        elif name == "set_header_extensions":
            self._get(oid, TRANSPORT)
        elif name in ("pause_producer", "resume_producer", "request_keyframe"):
            self._get(oid, PRODUCER)
        elif name in ("pause_consumer", "resume_consumer"):
            self._get(oid, CONSUMER)
        elif name == "switch_consumer":
            consumer = self._get(oid, CONSUMER)
            producer = self._get(op["producer_id"], PRODUCER, "producer_id")
            if producer["op"]["kind"] != consumer["kind"]:
                raise TableError(E_CONFLICT, f"cannot switch a {consumer['kind']} consumer to a "
                                             f"{producer['op']['kind']} producer")
            if self.router_of(op["producer_id"]) != self.router_of(consumer["op"]["transport_id"]):
                raise TableError(E_WRONG_ROUTER, "a consumer must be in its producer's router")
        else:  # pragma: no cover - validate_op knows every name
            raise TableError(E_INVALID, f"unknown operation {name!r}")

    def commit(self, op: dict[str, Any]) -> None:
        """Applies a checked operation."""
        name, oid = op["op"], op["id"]
        if name in CREATE_OPS:
            record: dict[str, Any] = {"type": CREATE_OPS[name], "op": dict(op)}
            if name == "create_webrtc_transport":
                record["connect"] = None
            if record["type"] == TRANSPORT:
                record["extensions"] = None
            if name == "consume":
                record["kind"] = self.objects[op["producer_id"]]["op"]["kind"]
            self.objects[oid] = record
        elif name in CLOSE_OPS:
            for gone in self.closing(oid):
                del self.objects[gone]
        elif name == "connect_webrtc_transport":
            self.objects[oid]["connect"] = dict(op)
        elif name == "set_header_extensions":
            self.objects[oid]["extensions"] = dict(op)
        elif name in ("pause_producer", "pause_consumer"):
            self.objects[oid]["op"]["paused"] = True
        elif name in ("resume_producer", "resume_consumer"):
            self.objects[oid]["op"]["paused"] = False
        elif name == "switch_consumer":
            self.objects[oid]["op"]["producer_id"] = op["producer_id"]

    def closing(self, oid: str) -> list[str]:
        """`oid` and everything closing it closes: a router's transports, a transport's producers
        and consumers, a producer's consumers (on any transport)."""
        if oid not in self.objects:
            return []
        gone = {oid}
        changed = True
        while changed:
            changed = False
            for other, record in self.objects.items():
                if other in gone:
                    continue
                op = record["op"]
                parents = (op.get("router_id"), op.get("transport_id"), op.get("producer_id"))
                if any(p in gone for p in parents if p is not None):
                    gone.add(other)
                    changed = True
        return [o for o in self.objects if o in gone]
