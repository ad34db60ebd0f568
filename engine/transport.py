"""Transport: one peer's connection, the producers it sends and the consumers it receives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.consumer import Consumer
from engine.errors import EngineError
from engine.events import ProducerSsrcLearned
from engine.gate import Closable
from engine.producer import DEFAULT_CLOCK_RATES, KINDS, Producer

if TYPE_CHECKING:
    from engine.router import Router

Address = tuple[str, int]


class Transport(Closable):
    """One peer's connection: a plain RTP transport with a fixed remote address (WebRtcTransport,
    in engine.webrtc.transport, learns its remote from ICE)."""

    noun = "transport"
    announces_bitrate = False
    """Whether the engine tells this transport's peer by REMB at what bitrate to publish (WebRTC)."""

    def __init__(self, router: Router, transport_id: int, remote: Address | None, *, pipe: bool = False) -> None:
        super().__init__(router.engine, transport_id, router)
        self.router = router
        self.remote = remote
        #: a pipe to another worker: serves every router (its producers are consumed, and it
        #: consumes producers, across routers); see Router.create_plain_transport
        self.pipe = pipe
        self.producers: dict[int, Producer] = {}
        self.consumers: dict[int, Consumer] = {}
        self.header_extensions: dict[str, int] = {}
        #: SSRC-learning records that named no producer (unknown MID/RID), for stats
        self.unmapped_ssrcs = 0

    def produce(
        self,
        kind: str,
        ssrc: int | None = None,
        payload_type: int | None = None,
        app_data: dict[str, str] | None = None,
        clock_rate: int | None = None,
        paused: bool = False,
        *,
        mid: str | None = None,
        rid: str | None = None,
        rtx_ssrc: int | None = None,
        rtx_payload_type: int | None = None,
        codec: str | None = None,
        below_top: bool = False,
    ) -> Producer:
        """An incoming track: RTP from this transport with this SSRC. With ssrc None the SSRC is
        learned from the first packet whose MID (and RID, when given) header extension names this
        producer (set_header_extensions gives their ids). `codec` ("vp8", "vp9", "h264"): where its
        keyframes start, for consumers switching to it at one (Consumer.switch(at_keyframe=True)).
        `below_top`: a simulcast layer with a higher layer in its track: a subscriber forwarded it
        could receive more with more bandwidth, so its estimate is probed (engine/probe.pxi)."""
        self._check()
        if payload_type is None:
            raise ValueError("payload_type is required")
        if ssrc is None and mid is None and rid is None:
            raise ValueError("a producer without SSRC needs a mid (or rid) to be learned by")
        if (mid, rid) in self._streams():
            raise EngineError(f"mid {mid!r} rid {rid!r} is already produced on transport {self.id}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if clock_rate is None:
            clock_rate = DEFAULT_CLOCK_RATES[kind]
        engine = self.engine
        producer = Producer(self, next(engine._ids), kind, ssrc, payload_type, dict(app_data or {}), clock_rate)
        producer.mid, producer.rid = mid, rid
        producer.rtx_ssrc, producer.rtx_payload_type = rtx_ssrc, rtx_payload_type
        try:
            engine._core.add_producer(
                producer.id, self.id, ssrc, payload_type, kind == "video", clock_rate, codec or "other", below_top
            )
            if rtx_ssrc is not None:
                try:
                    engine._core.set_producer_rtx(producer.id, rtx_ssrc)
                except BaseException:
                    engine._core.remove_producer(producer.id)
                    raise
            if paused:
                engine._core.set_producer_paused(producer.id, True)
        except (ValueError, OverflowError) as error:
            raise EngineError(str(error)) from None
        producer.paused = paused
        self.producers[producer.id] = producer
        if kind == "audio":
            self.router.audio_producers += 1
        engine._claim_ssrcs(ssrc, rtx_ssrc)
        engine._applied()
        return producer

    def set_header_extensions(
        self,
        mid: int | None = None,
        rid: int | None = None,
        repaired_rid: int | None = None,
        *,
        abs_send_time: int | None = None,
        audio_level: int | None = None,
        transport_cc: int | None = None,
    ) -> None:
        """RFC 8285 ids negotiated with the peer (from the SDP; one id space both ways). Read in what
        it sends: MID and RID let producers announced without SSRC learn theirs, audio-level feeds
        the router's dominant speaker. Written in what it receives: once told, every packet sent to
        it carries these ids only (its consumer's MID as sdes:mid, the publisher's abs-send-time,
        audio-level under this peer's ids, and with transport-cc this transport's own transport-wide
        sequence number, which its feedback is read against: stats()["estimate_bps"]; any other
        extension is dropped)."""
        self._check()
        ids = {
            "mid": mid,
            "rid": rid,
            "repaired_rid": repaired_rid,
            "abs_send_time": abs_send_time,
            "audio_level": audio_level,
            "transport_cc": transport_cc,
        }
        for name, value in ids.items():
            if value is not None and not 1 <= value <= 255:
                raise ValueError(f"{name} extension id out of range: {value}")
        try:
            self.engine._core.set_transport_extensions(self.id, *(value or 0 for value in ids.values()))
        except ValueError as error:
            raise EngineError(str(error)) from None
        self.header_extensions = {k: v for k, v in ids.items() if v is not None}
        self.engine._applied()

    def _streams(self) -> dict[tuple[str | None, str | None], Producer]:
        return {(p.mid, p.rid): p for p in self.producers.values() if p.mid is not None or p.rid is not None}

    def _learn(self, ssrc: int, payload_type: int, mid: str | None, rid: str | None, repaired_rid: str | None) -> None:
        """An unknown SSRC with these extension values (learn.pxi): give it to its producer."""
        if any(ssrc in (p.ssrc, p.rtx_ssrc) for p in self.producers.values()):
            return  # learned meanwhile
        streams = self._streams()
        rtx = repaired_rid is not None
        producer = streams.get((mid, repaired_rid if rtx else rid))
        if producer is None and mid is None:
            # RID without MID: unique among this transport's producers
            named = [p for (_, r), p in streams.items() if r == (repaired_rid if rtx else rid) and r]
            producer = named[0] if len(named) == 1 else None
        if producer is None:
            self.unmapped_ssrcs += 1
            return
        if not rtx and producer.rtx_payload_type == payload_type and producer.rtx_payload_type is not None:
            rtx = True
        engine = self.engine
        if rtx:
            try:
                engine._core.set_producer_rtx(producer.id, ssrc)
            except ValueError:
                self.unmapped_ssrcs += 1
                return
            engine._release_ssrcs(producer.rtx_ssrc)
            engine._claim_ssrcs(ssrc)
            producer.rtx_ssrc = ssrc
            engine._applied()
        else:
            try:
                engine._core.set_producer_ssrc(producer.id, ssrc)
            except ValueError:
                self.unmapped_ssrcs += 1
                return
            engine._release_ssrcs(producer.ssrc)
            engine._claim_ssrcs(ssrc)
            producer.ssrc = ssrc
            engine._applied()
        engine._emit(ProducerSsrcLearned(producer.id, ssrc, rtx))

    def shares_router(self, producer: Producer) -> bool:
        """Whether this transport may consume `producer`: the same router, or across a pipe."""
        return producer.transport.router is self.router or self.pipe or producer.transport.pipe

    def consume(
        self,
        producer: Producer,
        ssrc: int | None = None,
        payload_type: int | None = None,
        paused: bool = False,
        *,
        rtx_ssrc: int | None = None,
        rtx_payload_type: int | None = None,
        mid: str | None = None,
    ) -> Consumer:
        """An outgoing copy of `producer` to this transport, with its own SSRC (allocated unless given).
        When the producer has RTX (an RTX SSRC or payload type), the consumer gets its own RTX stream
        too: `rtx_ssrc` allocated unless given, `rtx_payload_type` the producer's unless given.
        `mid`: the subscriber's m-section for it, sent as sdes:mid once the transport's header
        extensions are set (set_header_extensions)."""
        self._check()
        producer._check()
        if not self.shares_router(producer):
            raise EngineError("a consumer must be in its producer's router")
        engine = self.engine
        if ssrc is None:
            ssrc = engine._new_ssrc()
        if payload_type is None:
            payload_type = producer.payload_type
        if rtx_ssrc is None and (producer.rtx_ssrc is not None or producer.rtx_payload_type is not None):
            rtx_ssrc = engine._new_ssrc()
            while rtx_ssrc == ssrc:
                rtx_ssrc = engine._new_ssrc()
        if rtx_ssrc is not None and rtx_payload_type is None:
            rtx_payload_type = producer.rtx_payload_type
        # A subscriber tells its streams apart by SSRC: media and RTX SSRCs are unique per transport
        # (the core indexes media SSRCs only, so RTX SSRCs are checked here).
        in_use = {s for c in self.consumers.values() for s in (c.ssrc, c.rtx_ssrc) if s is not None}
        if ssrc in in_use or rtx_ssrc in in_use or ssrc == rtx_ssrc:
            raise EngineError(f"SSRC {ssrc} or RTX SSRC {rtx_ssrc} already sent on transport {self.id}")
        consumer = Consumer(self, next(engine._ids), producer, ssrc, payload_type)
        consumer.mid = mid
        try:
            engine._core.add_consumer(
                consumer.id,
                self.id,
                producer.id,
                ssrc,
                payload_type,
                paused,
                rtx_ssrc,
                rtx_payload_type,
                mid.encode() if mid is not None else None,
            )
        except (ValueError, OverflowError) as error:
            raise EngineError(str(error)) from None
        consumer.rtx_ssrc, consumer.rtx_payload_type = rtx_ssrc, rtx_payload_type
        consumer.paused = paused
        self.consumers[consumer.id] = consumer
        producer.consumers[consumer.id] = consumer
        engine._claim_ssrcs(ssrc, rtx_ssrc)
        engine._applied()
        return consumer

    def set_srtp(self, profile: int, local_key_salt: bytes, remote_key_salt: bytes) -> None:
        """Encrypts this transport from now on (SRTP/SRTCP, `profile` in RFC 5764 numbering, e.g.
        1 = AES128_CM_SHA1_80): the engine sends with `local_key_salt` and expects the peer to send
        with `remote_key_salt` (master key followed by master salt, as DTLS-SRTP exports them)."""
        self._check()
        try:
            self.engine._core.set_transport_srtp(self.id, profile, local_key_salt, remote_key_salt)
        except ValueError as error:
            raise EngineError(str(error)) from None
        self.engine._applied()

    def set_pacing(self, bps: int) -> None:
        """Paces the video sent to this transport's peer at `bps` bit/s (engine/pace.pxi): a burst,
        such as a keyframe after a switch to a higher layer, leaves at that rate with a few
        milliseconds' burst (past 300 ms of the rate the oldest held video goes early, never
        dropped); audio, RTCP and retransmissions go first. 0: unpaced (the default of an Engine;
        a worker paces by its estimate unless --no-pacing)."""
        self._check()
        if bps < 0:
            raise EngineError(f"pacing rate must be 0 or more bit/s, not {bps}")
        self.engine._core.set_transport_pacing(self.id, bps)
        self.engine._pace_soon()

    def probe(self, target_bps: int) -> bool:
        """Asks the engine to probe this subscriber's link at `target_bps` (engine/probe.pxi): for a
        short cluster, padding on one of its consumers' RTX streams lifts what it is sent to that
        rate, and the transport-cc feedback about it may raise its estimate. False when it cannot
        (no transport-cc negotiated, no consumer with RTX that has sent video yet)."""
        self._check()
        if target_bps <= 0:
            raise EngineError(f"probe target must be above 0 bit/s, not {target_bps}")
        started = bool(self.engine._core.probe_transport(self.id, target_bps))
        self.engine._pace_soon()
        return started

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.transport_stats(self.id)

    def _children(self) -> list[Closable]:
        return [*self.consumers.values(), *self.producers.values()]

    def _remove(self) -> None:
        self.engine._core.remove_transport(self.id)

    def _forget(self) -> None:
        self.router.transports.pop(self.id, None)
        self.engine._pipes.discard(self)
        self.engine._announcing.discard(self)
