"""Framing: one JSON object per frame, with a string "type"."""

from __future__ import annotations

import pytest

from contract import framing
from contract.framing import ProtocolError


@pytest.mark.parametrize("frame", [b"\x00", "not json", "[1]", '{"type": 3}', '{"no": "type"}', "[" * 100000])
def test_decode_refuses_malformed_frames(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        framing.decode(frame)


def test_encode_decode_round_trip() -> None:
    assert framing.decode(framing.encode({"type": "x", "a": [1, 2]})) == {"type": "x", "a": [1, 2]}
    assert framing.decode(framing.error_frame("malformed", "m" * 900))["message"] == "m" * 500
