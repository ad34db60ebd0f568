"""Acknowledgements: one per batch, one result per operation."""

from __future__ import annotations

import pytest

from contract import acks
from contract.acks import Ack, parse_ack
from contract.framing import ProtocolError


def test_ack_round_trip_and_errors() -> None:
    ack = Ack(4, [acks.ok(ssrc=5), acks.failed(acks.E_UNKNOWN_ID, "no producer 'p'")])
    assert parse_ack(ack.to_wire()) == ack
    assert not ack.ok and ack.errors() == [(1, {"ok": False, "error": "unknown_id", "message": "no producer 'p'"})]
    assert Ack(1, [acks.ok()]).ok


@pytest.mark.parametrize(
    "message",
    [
        {"type": "ack", "version": 0, "results": []},
        {"type": "ack", "version": 1, "results": [{"fine": True}]},
        {"type": "ops", "version": 1, "results": []},
    ],
)
def test_parse_ack_refuses(message: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        parse_ack(message)
