"""The engine channel's handshake: challenge, hello, welcome.

The secret never crosses the wire: ``proof`` is HMAC-SHA256(secret, context, N1, N2, W) with a
different context for each direction, so the control plane proves it knows the secret too
(`hello_proof`, `welcome_proof`); proofs are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from contract.framing import PROTOCOL, is_id, parse_address, parse_pairs, require

_HELLO_CONTEXT = b"podium-engine-channel/1 worker"
_WELCOME_CONTEXT = b"podium-engine-channel/1 control"


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
    ops: list[Any] = field(default_factory=list)
    """The table itself, in `Table.dump` form, as received (each operation is parsed on its own)."""


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


def parse_hello(message: dict[str, Any]) -> Hello:
    require(message.get("type") == "hello", "expected a hello")
    require(message.get("protocol") == PROTOCOL, f"unsupported protocol {message.get('protocol')!r} (want {PROTOCOL})")
    worker_id = message.get("worker_id")
    require(is_id(worker_id), "hello has a bad worker_id")
    nonce, proof = message.get("nonce"), message.get("proof")
    require(isinstance(nonce, str) and 16 <= len(nonce) <= 128, "hello has a bad nonce")
    require(isinstance(proof, str) and len(proof) <= 128, "hello has a bad proof")
    address = parse_address(message.get("address"), "address")
    raw_candidates = message.get("candidates", [])
    require(isinstance(raw_candidates, list) and len(raw_candidates) <= 64, "candidates must be a list")
    candidates = [parse_address(c, "candidate") for c in raw_candidates]
    fingerprints = parse_pairs(message.get("dtls_fingerprints", []), "dtls_fingerprints")
    capabilities = message.get("capabilities", [])
    require(
        isinstance(capabilities, list) and all(isinstance(c, str) for c in capabilities),
        "capabilities must be a list of strings",
    )
    table = message.get("table", {})
    require(isinstance(table, dict), "table must be an object")
    epoch, version, ops = table.get("epoch"), table.get("version", 0), table.get("ops", [])
    require(epoch is None or isinstance(epoch, str), "table epoch must be a string")
    require(type(version) is int and version >= 0, "table version must be a natural number")
    require(isinstance(ops, list), "table ops must be a list")
    return Hello(
        str(worker_id),
        str(nonce),
        str(proof),
        address,
        candidates,
        fingerprints,
        list(capabilities),
        TableReport(epoch, version, ops),
    )
