"""Producer: one incoming track of a transport."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contract.vocabulary import KINDS
from engine.gate import Closable, Gated

if TYPE_CHECKING:
    from engine.consumer import Consumer
    from engine.transport import Transport

__all__ = ["DEFAULT_CLOCK_RATES", "KINDS", "Producer"]

DEFAULT_CLOCK_RATES = {"audio": 48000, "video": 90000}


class Producer(Gated):
    """One incoming track. Its gate closed, everything from it is dropped (and counted); closing it
    closes its consumers."""

    noun = "producer"

    def __init__(
        self,
        transport: Transport,
        producer_id: int,
        kind: str,
        ssrc: int | None,
        payload_type: int,
        app_data: dict[str, str],
        clock_rate: int,
    ) -> None:
        super().__init__(transport.engine, producer_id, transport)
        self.transport = transport
        self.kind = kind
        self.ssrc = ssrc
        """None until learned from the MID/RID header extensions."""
        self.mid: str | None = None
        self.rid: str | None = None
        self.rtx_ssrc: int | None = None
        self.rtx_payload_type: int | None = None
        self.payload_type = payload_type
        self.app_data = app_data
        """Opaque to the engine (the control plane's words, e.g. {"source": "camera"}): stored and reported."""
        self.clock_rate = clock_rate
        self.consumers: dict[int, Consumer] = {}

    def _set_gate(self, paused: bool) -> None:
        self.engine._core.set_producer_paused(self.id, paused)

    def take_levels(self) -> bytes:
        """RFC 6464 audio-level bytes read from its packets since the last call (oldest first)."""
        self._check()
        return self.engine._core.take_levels(self.id)

    def request_keyframe(self) -> bool:
        """Sends a PLI to the publisher (merged with one sent a few ms ago): True if sent."""
        self._check()
        return self.engine._core.request_keyframe(self.id)

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.producer_stats(self.id)

    def _children(self) -> list[Closable]:
        return list(self.consumers.values())

    def _remove(self) -> None:
        self.engine._core.remove_producer(self.id)

    def _forget(self) -> None:
        self.engine._release_ssrcs(self.ssrc, self.rtx_ssrc)
        if self.transport.producers.pop(self.id, None) is not None and self.kind == "audio":
            self.transport.router.audio_producers -= 1
