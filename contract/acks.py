"""Acknowledgements: the worker's answer to one batch, one result per operation.

A failed operation does not stop the batch and never stops the worker: its result says why
(``{"ok": false, "error": "unknown_id", "message": "..."}``) and the table is left as if that one
operation had not been sent. The same `Ack` is what the control plane's registry returns to its
callers, with the latency it measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.framing import require

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

Result = dict[str, Any]
"""{"ok": true, ...} (a consume's carries "ssrc" and "rtx_ssrc", a request_keyframe's "sent") or
{"ok": false, "error": code, "message": text}."""


def ok(**details: Any) -> Result:
    return {"ok": True, **details}


def failed(code: str, message: str) -> Result:
    return {"ok": False, "error": code, "message": message[:500]}


@dataclass(frozen=True)
class Ack:
    """One {"type": "ack"} frame: the batch `version` is in force."""

    version: int
    """The table version the batch is in force as."""
    results: list[Result]
    """One per operation of the batch, in order."""
    latency: float = 0.0
    """Seconds from the control plane's call to this ack, as the registry measured it (not sent)."""

    @property
    def ok(self) -> bool:
        return all(r.get("ok") for r in self.results)

    def errors(self) -> list[tuple[int, Result]]:
        return [(i, r) for i, r in enumerate(self.results) if not r.get("ok")]

    def to_wire(self) -> dict[str, Any]:
        return {"type": "ack", "version": self.version, "results": self.results}


def parse_ack(message: dict[str, Any]) -> Ack:
    require(message.get("type") == "ack", "expected an ack")
    version, results = message.get("version"), message.get("results")
    require(type(version) is int and version > 0, "ack has a bad version")
    require(
        isinstance(results, list) and all(isinstance(r, dict) and isinstance(r.get("ok"), bool) for r in results),
        "ack results must be a list of {ok: bool, ...}",
    )
    assert isinstance(version, int) and isinstance(results, list)
    return Ack(version, results)
