"""The handshake: proofs in both directions, the hello's checks."""

from __future__ import annotations

from typing import Any

import pytest

from contract import handshake
from contract.framing import PROTOCOL, ProtocolError


def test_proofs_depend_on_secret_direction_and_nonces() -> None:
    proof = handshake.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-1")
    assert handshake.proofs_match(proof, handshake.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-1"))
    assert not handshake.proofs_match(proof, handshake.hello_proof("other", "n" * 32, "w" * 32, "worker-1"))
    assert not handshake.proofs_match(proof, handshake.hello_proof("s3cret", "m" * 32, "w" * 32, "worker-1"))
    assert not handshake.proofs_match(proof, handshake.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-2"))
    assert not handshake.proofs_match(proof, handshake.welcome_proof("s3cret", "n" * 32, "w" * 32, "worker-1"))
    assert not handshake.proofs_match(proof, None)


def hello(**changes: Any) -> dict[str, Any]:
    return {
        "type": "hello",
        "protocol": PROTOCOL,
        "worker_id": "w1",
        "nonce": "n" * 32,
        "proof": "p",
        "address": ["127.0.0.1", 5000],
        "candidates": [["127.0.0.1", 5000]],
        "dtls_fingerprints": [["sha-256", "AB"]],
        "capabilities": ["plain"],
        "table": {"epoch": None, "version": 0, "ops": []},
        **changes,
    }


def test_parse_hello() -> None:
    parsed = handshake.parse_hello(hello())
    assert parsed.worker_id == "w1" and parsed.address == ("127.0.0.1", 5000)
    assert parsed.dtls_fingerprints == [("sha-256", "AB")] and parsed.table.version == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"protocol": 99}, "unsupported protocol 99"),
        ({"worker_id": ""}, "bad worker_id"),
        ({"nonce": "short"}, "bad nonce"),
        ({"address": ["h"]}, "address must be [host, port]"),
        ({"table": {"version": -1}}, "table version must be a natural number"),
    ],
)
def test_parse_hello_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        handshake.parse_hello(hello(**changes))
    assert message in str(info.value)
