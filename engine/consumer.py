"""Consumer: one outgoing copy of a producer to a transport."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.gate import Gated

if TYPE_CHECKING:
    from engine.producer import Producer
    from engine.transport import Transport


class Consumer(Gated):
    """One outgoing copy of a producer to a transport, with its own SSRC, sequence and timestamps.
    Its gate closed, this copy is not sent."""

    noun = "consumer"

    def __init__(
        self,
        transport: Transport,
        consumer_id: int,
        producer: Producer,
        ssrc: int,
        payload_type: int,
    ) -> None:
        super().__init__(transport.engine, consumer_id, transport)
        self.transport = transport
        self.producer = producer
        self.kind = producer.kind
        self.ssrc = ssrc
        self.payload_type = payload_type
        #: the consumer's own RTX stream (RFC 4588), when its producer has one at consume()
        self.rtx_ssrc: int | None = None
        self.rtx_payload_type: int | None = None
        #: the subscriber's m-section, written as sdes:mid (engine/extensions.pxi)
        self.mid: str | None = None

    def _set_gate(self, paused: bool) -> None:
        self.engine._core.set_consumer_paused(self.id, paused)

    def switch(self, producer: Producer, *, at_keyframe: bool = False) -> None:
        """Feeds this consumer from another producer of the same kind and router; the subscriber
        sees one stream (same SSRC, contiguous sequence numbers, timestamps never going back). With
        `at_keyframe` (a simulcast layer) the switch happens at that producer's next keyframe (asked
        for now); until then the consumer forwards its current producer. It belongs to the new
        producer at once: closing that one closes it."""
        self._check()
        producer._check()
        if producer.kind != self.kind:
            raise EngineError(f"cannot switch a {self.kind} consumer to a {producer.kind} producer")
        if not self.transport.shares_router(producer):
            raise EngineError("a consumer must be in its producer's router")
        self.engine._core.switch_consumer(self.id, producer.id, at_keyframe)
        self.producer.consumers.pop(self.id, None)
        producer.consumers[self.id] = self
        self.producer = producer
        self.engine._applied()

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.consumer_stats(self.id)

    def _remove(self) -> None:
        self.engine._core.remove_consumer(self.id)

    def _forget(self) -> None:
        self.engine._release_ssrcs(self.ssrc, self.rtx_ssrc)
        self.producer.consumers.pop(self.id, None)
        self.transport.consumers.pop(self.id, None)
