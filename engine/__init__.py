"""Podium's media engine: Engine (a worker), Router, Transport, Producer, Consumer.

A thin Python layer over the fast path (engine._rtp.Core). Every mutating call is one versioned
table operation: it is applied in the loop thread between two receive batches, before the call
returns, and `engine.version` then names it. Objects keep their own state (paused, producer, ...)
only after the core accepted the change. WebRTC transports (ICE-lite, DTLS-SRTP) are driven from
the slow path by engine.webrtc; events (engine.events) are reported through `engine.on_event`.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import random
import socket
from typing import Any, Callable

from contract.vocabulary import KINDS
from engine._rtp import DROP_NAMES, Core
from engine.events import EngineEvent, ProducerSsrcLearned

__all__ = [
    "Engine",
    "Router",
    "Transport",
    "Producer",
    "Consumer",
    "WebRtcTransport",
    "EngineError",
    "ClosedError",
    "DROP_NAMES",
    "KINDS",
]

logger = logging.getLogger(__name__)

DEFAULT_CLOCK_RATES = {"audio": 48000, "video": 90000}
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

Address = tuple[str, int]
SlowDatagramHandler = Callable[[bytes, Address], None]
EventHandler = Callable[[EngineEvent], None]


class EngineError(Exception):
    """A table operation the engine refused."""


class ClosedError(EngineError):
    """The object (or its engine) is closed."""


def _ipv6_literal(host: str) -> str:
    """The address to bind a dual-stack socket to: IPv4 literals become v4-mapped IPv6."""
    if host in ("", "0.0.0.0"):
        return "::"
    try:
        socket.inet_pton(socket.AF_INET, host)
    except OSError:
        return host
    return "::ffff:" + host


def _unmap(host: str) -> str:
    return host[7:] if host.startswith("::ffff:") and "." in host else host


class Engine:
    """One worker: one dual-stack UDP socket and the forwarding table behind it."""

    def __init__(
        self,
        host: str = "::",
        port: int = 0,
        *,
        keyframe_interval: float = 0.5,
        on_slow_datagram: SlowDatagramHandler | None = None,
        announced_hosts: list[str] | None = None,
    ) -> None:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.setblocking(False)
            for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
                except OSError:  # pragma: no cover - capped by the kernel, never fatal
                    pass
            sock.bind((_ipv6_literal(host), port))
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._rtcp_ssrc = random.randint(1, 0xFFFFFFFF)
        self._core = Core(sock.fileno(), self._rtcp_ssrc, int(keyframe_interval * 1000))
        self._ids = itertools.count(1)
        self._ssrcs: collections.Counter[int] = collections.Counter()
        """SSRCs in use by producers and consumers, counted: the same explicit SSRC may stand on
        several transports, and stays reserved until the last of them closes."""
        self._version = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.routers: dict[int, Router] = {}
        self.closed = False
        #: called as on_slow_datagram(data, (host, port)) for STUN, DTLS and datagrams from
        #: addresses no transport owns; when None they are only counted (slow_datagrams)
        self.on_slow_datagram = on_slow_datagram
        self.slow_datagrams = 0
        #: called as on_event(event) for engine.events (transport state, learned SSRCs, ...)
        self.on_event: EventHandler | None = None
        self._announced_hosts = list(announced_hosts) if announced_hosts else None
        self._webrtc: WebRtcDriver | None = None   # created with the first WebRTC transport

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Attaches the fast path to the running asyncio loop."""
        self._check()
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._on_readable)

    def close(self) -> None:
        if self.closed:
            return
        for router in list(self.routers.values()):
            router._close()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._sock.fileno())
        self._core.close()
        self._sock.close()
        self.closed = True
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(ClosedError("engine closed"))
        self._waiters.clear()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> Address:
        """(host, port) actually bound; an IPv4 host is reported as IPv4."""
        host, port = self._sock.getsockname()[:2]
        return _unmap(host), port

    # ---- the loop's reader -----------------------------------------------------------------

    def _on_readable(self) -> None:
        core = self._core
        core.drain()
        item = core.pop_slow()
        while item is not None:
            self.slow_datagrams += 1
            webrtc = self._webrtc
            if webrtc is not None and webrtc.datagram(item[0], item[1]):
                item = core.pop_slow()
                continue
            handler = self.on_slow_datagram
            if handler is not None:
                try:
                    handler(item[0], item[1])
                except Exception:
                    logger.exception("slow-path handler failed")
            item = core.pop_slow()
        learned = core.pop_learned()
        while learned is not None:
            tid, ssrc, payload_type, mid, rid, repaired_rid = learned
            transport = self._transports().get(tid)
            if transport is not None and not transport.closed:
                try:
                    transport._learn(ssrc, payload_type, mid, rid, repaired_rid)
                except Exception:
                    logger.exception("SSRC learning failed")
            learned = core.pop_learned()

    def _transports(self) -> dict[int, Transport]:
        return {t.id: t for r in self.routers.values() for t in r.transports.values()}

    def _emit(self, event: EngineEvent) -> None:
        handler = self.on_event
        if handler is not None:
            try:
                handler(event)
            except Exception:
                logger.exception("engine event handler failed")

    def sendto(self, data: bytes, addr: Address) -> None:
        """Sends a slow-path datagram (STUN answer, DTLS record); never blocks."""
        try:
            self._sock.sendto(data, (_ipv6_literal(addr[0]), addr[1]))
        except (BlockingIOError, InterruptedError):
            logger.debug("slow-path send to %s dropped: socket buffer full", addr)

    # ---- versions --------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The last table version applied (every table operation bumps it by one)."""
        return self._version

    async def wait_version(self, version: int) -> None:
        """Returns once table version `version` is in force."""
        if self._version >= version:
            return
        self._check()
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((version, future))
        await future

    def _applied(self) -> int:
        self._version += 1
        self._core.set_version(self._version)
        if self._waiters:
            ready = [f for v, f in self._waiters if v <= self._version]
            self._waiters = [(v, f) for v, f in self._waiters if v > self._version]
            for future in ready:
                if not future.done():
                    future.set_result(None)
        return self._version

    # ---- table -----------------------------------------------------------------------------

    # ---- WebRTC ------------------------------------------------------------------------------

    @property
    def webrtc(self) -> WebRtcDriver:
        """The slow-path driver of WebRTC transports (and the worker's DTLS certificate)."""
        if self._webrtc is None:
            self._webrtc = WebRtcDriver(self)
        return self._webrtc

    @property
    def dtls_fingerprints(self) -> list[tuple[str, str]]:
        """Fingerprints of the worker's DTLS certificate, for a=fingerprint: [("sha-256", "AB:..")]."""
        return self.webrtc.certificate.fingerprints()

    @property
    def candidates(self) -> list[Address]:
        """Host candidates: the announced hosts (or the bound one) with the socket's port."""
        host, port = self.address
        if self._announced_hosts:
            return [(h, port) for h in self._announced_hosts]
        if host in ("::", "0.0.0.0"):
            # a wildcard is no candidate: the hosts to announce must be given (announced_hosts)
            return [(socket.gethostbyname(socket.gethostname()), port)]
        return [(host, port)]

    def create_router(self) -> Router:
        self._check()
        router = Router(self, next(self._ids))
        self.routers[router.id] = router
        self._applied()
        return router

    def stats(self) -> dict[str, Any]:
        stats = self._core.stats()
        stats["version"] = self._version
        stats["slow_datagrams"] = self.slow_datagrams
        if self._webrtc is not None:
            stats["webrtc"] = dict(self._webrtc.stats)
        return stats

    def allocations(self) -> dict[str, int]:
        """Live C allocations (debug resource check): all zero after close()."""
        return self._core.allocations()

    def request_keyframe(self, producer: Producer) -> bool:
        return producer.request_keyframe()

    def _check(self) -> None:
        if self.closed:
            raise ClosedError("engine closed")

    def _claim_ssrcs(self, *ssrcs: int | None) -> None:
        self._ssrcs.update(s for s in ssrcs if s is not None)

    def _release_ssrcs(self, *ssrcs: int | None) -> None:
        for s in ssrcs:
            if s is not None and self._ssrcs[s] > 0:
                self._ssrcs[s] -= 1
                if not self._ssrcs[s]:
                    del self._ssrcs[s]

    def _new_ssrc(self) -> int:
        while True:
            ssrc = random.randint(1, 0xFFFFFFFF)
            if ssrc not in self._ssrcs and ssrc != self._rtcp_ssrc:
                return ssrc


class Router:
    """The media side of one meeting inside a worker."""

    def __init__(self, engine: Engine, router_id: int) -> None:
        self.engine = engine
        self.id = router_id
        self.transports: dict[int, Transport] = {}
        self.closed = False

    def create_plain_transport(self, remote: Address) -> Transport:
        """Plain RTP/RTCP to and from a fixed remote address, no encryption."""
        self._check()
        engine = self.engine
        host, port = remote
        transport = Transport(self, next(engine._ids), (host, int(port)))
        try:
            engine._core.add_transport(transport.id, self.id, host, int(port))
        except ValueError as error:
            raise EngineError(str(error)) from None
        self.transports[transport.id] = transport
        engine._applied()
        return transport

    def create_webrtc_transport(
        self,
        ice_ufrag: str | None = None,
        ice_pwd: str | None = None,
        srtp_profiles: list[SrtpProfile] | tuple[SrtpProfile, ...] | None = None,
    ) -> WebRtcTransport:
        """ICE-lite + DTLS-SRTP on the worker's socket: credentials generated when None; the SRTP
        profiles offered in DTLS default to GCM, then AES-CM with SHA1-80, then SHA1-32."""
        self._check()
        engine = self.engine
        transport = WebRtcTransport(self, next(engine._ids), ice_ufrag, ice_pwd, srtp_profiles)
        engine._core.add_transport(transport.id, self.id)
        try:
            engine.webrtc.register(transport)
        except BaseException:
            engine._core.remove_transport(transport.id)
            raise
        self.transports[transport.id] = transport
        engine._applied()
        return transport

    def close(self) -> None:
        if not self.closed:
            self._close()
            self.engine._applied()

    def _close(self) -> None:
        for transport in list(self.transports.values()):
            transport._close()
        self.engine.routers.pop(self.id, None)
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise ClosedError(f"router {self.id} closed")
        self.engine._check()


class Transport:
    """One peer's connection: a plain RTP transport with a fixed remote address (WebRtcTransport,
    in engine.webrtc, learns its remote from ICE)."""

    def __init__(self, router: Router, transport_id: int, remote: Address | None) -> None:
        self.router = router
        self.engine = router.engine
        self.id = transport_id
        self.remote = remote
        self.producers: dict[int, Producer] = {}
        self.consumers: dict[int, Consumer] = {}
        self.closed = False
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
    ) -> Producer:
        """An incoming track: RTP from this transport with this SSRC. With ssrc None the SSRC is
        learned from the first packet whose MID (and RID, when given) header extension names this
        producer (set_header_extensions gives their ids)."""
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
            engine._core.add_producer(producer.id, self.id, ssrc, payload_type, kind == "video", clock_rate)
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
        engine._claim_ssrcs(ssrc, rtx_ssrc)
        engine._applied()
        return producer

    def set_header_extensions(
        self, mid: int | None = None, rid: int | None = None, repaired_rid: int | None = None
    ) -> None:
        """RFC 8285 ids (from the SDP) of the MID, RID and repaired-RID extensions the peer sends;
        with them, producers announced without SSRC learn theirs from the first packets."""
        self._check()
        ids = {"mid": mid, "rid": rid, "repaired_rid": repaired_rid}
        for name, value in ids.items():
            if value is not None and not 1 <= value <= 255:
                raise ValueError(f"{name} extension id out of range: {value}")
        self.engine._core.set_transport_extensions(self.id, mid or 0, rid or 0, repaired_rid or 0)
        self.header_extensions = {k: v for k, v in ids.items() if v is not None}
        self.engine._applied()

    def _streams(self) -> dict[tuple[str | None, str | None], Producer]:
        return {(p.mid, p.rid): p for p in self.producers.values() if p.mid is not None or p.rid is not None}

    def _learn(self, ssrc: int, payload_type: int, mid: str | None, rid: str | None,
               repaired_rid: str | None) -> None:
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

    def consume(
        self,
        producer: Producer,
        ssrc: int | None = None,
        payload_type: int | None = None,
        paused: bool = False,
        *,
        rtx_ssrc: int | None = None,
        rtx_payload_type: int | None = None,
    ) -> Consumer:
        """An outgoing copy of `producer` to this transport, with its own SSRC (allocated unless given).
        When the producer has RTX (an RTX SSRC or payload type), the consumer gets its own RTX stream
        too: `rtx_ssrc` allocated unless given, `rtx_payload_type` the producer's unless given."""
        self._check()
        producer._check()
        if producer.transport.router is not self.router:
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
        try:
            engine._core.add_consumer(consumer.id, self.id, producer.id, ssrc, payload_type, paused,
                                      rtx_ssrc, rtx_payload_type)
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

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.transport_stats(self.id)

    def close(self) -> None:
        if not self.closed:
            self._close()
            self.engine._applied()

    def _close(self) -> None:
        for consumer in list(self.consumers.values()):
            consumer._close()
        for producer in list(self.producers.values()):
            producer._close()
        if not self.engine.closed:
            self.engine._core.remove_transport(self.id)
        self.router.transports.pop(self.id, None)
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise ClosedError(f"transport {self.id} closed")
        self.router._check()


class Producer:
    """One incoming track. Closing it closes its consumers."""

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
        self.transport = transport
        self.engine = transport.engine
        self.id = producer_id
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
        self.paused = False
        self.consumers: dict[int, Consumer] = {}
        self.closed = False

    def pause(self) -> None:
        """Closes the producer gate: everything from it is dropped (and counted)."""
        self._set_paused(True)

    def resume(self) -> None:
        """Opens the producer gate; for video, asks the publisher for a keyframe."""
        self._set_paused(False)

    def _set_paused(self, paused: bool) -> None:
        self._check()
        self.engine._core.set_producer_paused(self.id, paused)
        self.paused = paused
        self.engine._applied()

    def request_keyframe(self) -> bool:
        """Sends a PLI to the publisher (merged with one sent a few ms ago): True if sent."""
        self._check()
        return self.engine._core.request_keyframe(self.id)

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.producer_stats(self.id)

    def close(self) -> None:
        if not self.closed:
            self._close()
            self.engine._applied()

    def _close(self) -> None:
        for consumer in list(self.consumers.values()):
            consumer._close()
        if not self.engine.closed:
            self.engine._core.remove_producer(self.id)
        self.engine._release_ssrcs(self.ssrc, self.rtx_ssrc)
        self.transport.producers.pop(self.id, None)
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise ClosedError(f"producer {self.id} closed")
        self.transport._check()


class Consumer:
    """One outgoing copy of a producer to a transport, with its own SSRC, sequence and timestamps."""

    def __init__(
        self,
        transport: Transport,
        consumer_id: int,
        producer: Producer,
        ssrc: int,
        payload_type: int,
    ) -> None:
        self.transport = transport
        self.engine = transport.engine
        self.id = consumer_id
        self.producer = producer
        self.kind = producer.kind
        self.ssrc = ssrc
        self.payload_type = payload_type
        #: the consumer's own RTX stream (RFC 4588), when its producer has one at consume()
        self.rtx_ssrc: int | None = None
        self.rtx_payload_type: int | None = None
        self.paused = False
        self.closed = False

    def pause(self) -> None:
        """Closes the consumer gate: this copy is not sent."""
        self._set_paused(True)

    def resume(self) -> None:
        """Opens the consumer gate; for video, asks the publisher for a keyframe."""
        self._set_paused(False)

    def _set_paused(self, paused: bool) -> None:
        self._check()
        self.engine._core.set_consumer_paused(self.id, paused)
        self.paused = paused
        self.engine._applied()

    def switch(self, producer: Producer) -> None:
        """Feeds this consumer from another producer of the same kind and router; the subscriber
        sees one stream (same SSRC, contiguous sequence numbers, timestamps never going back)."""
        self._check()
        producer._check()
        if producer.kind != self.kind:
            raise EngineError(f"cannot switch a {self.kind} consumer to a {producer.kind} producer")
        if producer.transport.router is not self.transport.router:
            raise EngineError("a consumer must be in its producer's router")
        self.engine._core.switch_consumer(self.id, producer.id)
        self.producer.consumers.pop(self.id, None)
        producer.consumers[self.id] = self
        self.producer = producer
        self.engine._applied()

    def stats(self) -> dict[str, Any]:
        self._check()
        return self.engine._core.consumer_stats(self.id)

    def close(self) -> None:
        if not self.closed:
            self._close()
            self.engine._applied()

    def _close(self) -> None:
        if not self.engine.closed:
            self.engine._core.remove_consumer(self.id)
        self.engine._release_ssrcs(self.ssrc, self.rtx_ssrc)
        self.producer.consumers.pop(self.id, None)
        self.transport.consumers.pop(self.id, None)
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise ClosedError(f"consumer {self.id} closed")
        self.transport._check()


# At the end: engine.webrtc subclasses Transport.
from engine.dtls import SrtpProfile  # noqa: E402
from engine.webrtc import WebRtcDriver, WebRtcTransport  # noqa: E402
