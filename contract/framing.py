"""Frames of the engine channel: one JSON object per WebSocket text frame, with a string "type".

Also the field checks every parser here shares, so that each refusal says precisely what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL = 2
"""Version of this wire format (2: typed operations, `produce` carries app_data); a peer speaking
another one is refused (CLOSE_PROTOCOL_ERROR)."""

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


class ProtocolError(ValueError):
    """A frame or an operation that does not follow this format."""


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


# ---- field checks ------------------------------------------------------------------------------


def require(condition: bool, message: str) -> None:
    """ProtocolError(message) unless `condition`."""
    if not condition:
        raise ProtocolError(message)


def is_id(value: object) -> bool:
    """An object or worker id: a non-empty printable string of at most 128 characters."""
    return isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable()


def parse_address(value: object, what: str) -> tuple[str, int]:
    """[host, port] as a tuple."""
    require(isinstance(value, (list, tuple)) and len(value) == 2, f"{what} must be [host, port]")
    assert isinstance(value, (list, tuple))
    host, port = value
    require(isinstance(host, str) and 0 < len(host) <= 255, f"{what} has a bad host")
    require(type(port) is int and 0 <= port <= 65535, f"{what} has a bad port")
    return str(host), int(port)


def parse_pairs(value: object, what: str) -> list[tuple[str, str]]:
    """A list of at most 16 [text, text] pairs (fingerprints: [algorithm, value])."""
    require(isinstance(value, (list, tuple)) and len(value) <= 16, f"{what} must be a list of pairs")
    assert isinstance(value, (list, tuple))
    out = []
    for item in value:
        require(
            isinstance(item, (list, tuple))
            and len(item) == 2
            and all(isinstance(x, str) and 0 < len(x) <= 256 for x in item),
            f"{what} must be a list of pairs",
        )
        out.append((str(item[0]), str(item[1])))
    return out
