"""Engine: one worker, its UDP socket and the forwarding table behind it.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contract.speaker import FRAME
from engine._rtp import WORK_LEARNED, WORK_SLOW, WORK_TIMED, Core
from engine.errors import ClosedError
from engine.events import EngineEvent, ProducerBitrateChanged, TransportEstimateChanged
from engine.router import Router
from engine.transport import Address, Transport
from engine.webrtc.transport import WebRtcDriver

if TYPE_CHECKING:
    from engine.producer import Producer

logger = logging.getLogger(__name__)

SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

SlowDatagramHandler = Callable[[bytes, Address], None]
EventHandler = Callable[[EngineEvent], None]


SLOW_KINDS = ("stun", "dtls", "unknown_source")
"""What the fast path gives the slow path (one ring for all three): STUN, DTLS, and RTP/RTCP from an
address no transport owns."""


def slow_kind(data: bytes) -> str:
    """A slow-path datagram's kind, by its first byte (RFC 7983), as the fast path told them apart."""
    first = data[0] if data else 255
    return "stun" if first < 4 else "dtls" if 20 <= first <= 63 else "unknown_source"


def _ipv6_literal(host: str) -> str:
    """The address to bind a dual-stack socket to: IPv4 literals become v4-mapped IPv6."""
    if host in ("", "0.0.0.0"):
        return "::"
    try:
        socket.inet_pton(socket.AF_INET, host)
    except OSError:
        return host
    return "::ffff:" + host


PUBLISHER_BITRATE = 4_000_000
"""bit/s announced to publishers by REMB: a camera's three simulcast layers (2.5 Mbit/s at most on
the web client's top layer, 3.15 in all) fit."""
REMB_INTERVAL = 0.5
MAX_REMB_SSRCS = 16


def _unmap(host: str) -> str:
    return host[7:] if host.startswith("::ffff:") and "." in host else host


SPEAKER_TICK = 10 * FRAME
"""Seconds between two dominant-speaker decisions (contract/speaker.py)."""
BANDWIDTH_TICK = 1.0
"""Seconds between two bandwidth reports (engine/bitrates.pxi)."""
PACE_TICK = 0.002
"""Seconds between two releases of paced video while a transport holds any (engine/pace.pxi)."""


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
        publisher_bitrate: int = PUBLISHER_BITRATE,
        gso: bool = True,
        pace_from_remb: bool = False,
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
        #: whether a peer's runs of equal-size datagrams go as one UDP GSO message (engine/gso.pxi):
        #: where the kernel has UDP_SEGMENT, unless Engine(gso=False)
        self.gso = self._core.set_gso(gso)
        #: a subscriber's REMB paces the video sent to it at 2.5 times that rate (engine/pace.pxi),
        #: unless transport.set_pacing() set a rate
        self.pace_from_remb = pace_from_remb
        self._core.set_pace_from_remb(pace_from_remb)
        self._ids = itertools.count(1)
        self._ssrcs: collections.Counter[int] = collections.Counter()
        """SSRCs in use by producers and consumers, counted: the same explicit SSRC may stand on
        several transports, and stays reserved until the last of them closes."""
        self._version = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.routers: dict[int, Router] = {}
        self._pipes: set[Transport] = set()
        """The open pipe transports (Router.create_plain_transport(pipe=True)): the speaker tick asks
        which routers they span, and a worker of a thousand meetings without pipes asks nothing."""
        self._announcing: set[Transport] = set()
        """The open WebRTC transports (Transport.announces_bitrate): the REMB timer's, so that it does
        not walk every router's transports twice a second."""
        self.closed = False
        #: called as on_slow_datagram(data, (host, port)) for STUN, DTLS and datagrams from
        #: addresses no transport owns; when None they are only counted (slow_datagrams)
        self.on_slow_datagram = on_slow_datagram
        self.slow_datagrams = 0
        self.slow_unhandled = 0
        """Slow-path datagrams no WebRTC transport and no on_slow_datagram handler took."""
        self.slow_sent = 0
        """Datagrams the slow path sent (STUN answers, DTLS records)."""
        self.slow_popped = dict.fromkeys(SLOW_KINDS, 0)
        """Slow-path datagrams taken from the ring, by kind: what is queued less these is waiting."""
        self.ssrc_learn_popped = 0
        #: called as on_event(event) for engine.events (transport state, learned SSRCs, ...)
        self.on_event: EventHandler | None = None
        self._announced_hosts = list(announced_hosts) if announced_hosts else None
        self._webrtc: WebRtcDriver | None = None  # created with the first WebRTC transport
        self._speaker_timer: asyncio.TimerHandle | None = None
        self._speaker_at = 0.0
        self._bandwidth_timer: asyncio.TimerHandle | None = None
        #: the bitrate announced to publishers (REMB, every REMB_INTERVAL seconds, for their video
        #: SSRCs): until the engine estimates their links, what lets a browser send all its layers
        self.publisher_bitrate = publisher_bitrate
        self._remb_timer: asyncio.TimerHandle | None = None
        self._pace_timer: asyncio.TimerHandle | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Attaches the fast path to the running asyncio loop."""
        self._check()
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._on_readable)
        self._speaker_at = self._loop.time()
        self._speaker_timer = self._loop.call_later(SPEAKER_TICK, self._speaker_tick)
        self._remb_timer = self._loop.call_later(REMB_INTERVAL, self._announce_bitrate)
        self._bandwidth_timer = self._loop.call_later(BANDWIDTH_TICK, self._bandwidth_tick)

    def _announce_bitrate(self) -> None:
        """A REMB to every WebRTC transport that publishes video with known SSRCs (engine/remb.pxi);
        plain RTP peers (gateways, benchmarks) send at their own fixed rate."""
        if self.closed or self._loop is None:
            return
        for transport in list(self._announcing):
            ssrcs = [p.ssrc for p in transport.producers.values() if p.kind == "video" and p.ssrc is not None]
            if ssrcs and not transport.closed:
                self._core.send_remb(transport.id, self.publisher_bitrate, ssrcs[:MAX_REMB_SSRCS])
        self._remb_timer = self._loop.call_later(REMB_INTERVAL, self._announce_bitrate)

    def close(self) -> None:
        if self.closed:
            return
        for router in list(self.routers.values()):
            router._close()
        if self._speaker_timer is not None:
            self._speaker_timer.cancel()
        if self._remb_timer is not None:
            self._remb_timer.cancel()
        if self._bandwidth_timer is not None:
            self._bandwidth_timer.cancel()
        if self._pace_timer is not None:
            self._pace_timer.cancel()
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
        # One call into C per wake-up; media-only wake-ups (nearly all of them) end here.
        work = self._core.drain()
        if work:
            if work & WORK_TIMED:
                self._pace_soon()
            if work & WORK_SLOW:
                self._pop_slow()
            if work & WORK_LEARNED:
                self._pop_learned()

    def _pop_slow(self) -> None:
        """STUN, DTLS and datagrams from unknown sources, to the WebRTC side or the handler."""
        core = self._core
        item = core.pop_slow()
        while item is not None:
            self.slow_datagrams += 1
            self.slow_popped[slow_kind(item[0])] += 1
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
            elif webrtc is None:
                self.slow_unhandled += 1
            item = core.pop_slow()

    def _pop_learned(self) -> None:
        """Unknown SSRCs that carried a MID or RID: their transport maps them (simulcast, RTX)."""
        core = self._core
        learned = core.pop_learned()
        while learned is not None:
            self.ssrc_learn_popped += 1
            tid, ssrc, payload_type, mid, rid, repaired_rid = learned
            transport = self._transports().get(tid)
            if transport is not None and not transport.closed:
                try:
                    transport._learn(ssrc, payload_type, mid, rid, repaired_rid)
                except Exception:
                    logger.exception("SSRC learning failed")
            learned = core.pop_learned()

    def _pace_soon(self) -> None:
        """Starts the pace timer unless it runs (or nothing is held and no probe is sent)."""
        core = self._core
        if (
            self._pace_timer is None
            and self._loop is not None
            and not self.closed
            and (core.paced_pending or core.probing)
        ):
            self._pace_timer = self._loop.call_later(PACE_TICK, self._pace)

    def _pace(self) -> None:
        """Every PACE_TICK while paced transports hold video or probes are sent: what their buckets
        allow goes, and the probes' padding due (engine/probe.pxi)."""
        self._pace_timer = None
        if self.closed:
            return
        self._core.pace()
        self._pace_soon()

    def _speaker_tick(self) -> None:
        """Every SPEAKER_TICK: each router's dominant speaker from the audio levels read since."""
        assert self._loop is not None
        now = self._loop.time()
        elapsed, self._speaker_at = now - self._speaker_at, now
        spanning = self._spanning_routers()
        for router in list(self.routers.values()):
            if router.speaker_quiet and not router.audio_producers and router.id not in spanning:
                continue  # nothing to feed, report or undo (Router.speaker_quiet)
            try:
                router._decide_speaker(now, elapsed, router.id in spanning)
            except Exception:
                logger.exception("dominant speaker decision failed")
        self._speaker_timer = self._loop.call_later(SPEAKER_TICK, self._speaker_tick)

    def _bandwidth_tick(self) -> None:
        """Every BANDWIDTH_TICK: the video bitrates and transport estimates that moved, as events, from
        one pass in C over every router (engine/bitrates.pxi). A meeting with steady media costs the
        loop nothing here; in Python, a worker's 1,000 meetings spent 9 to 11 ms of every second."""
        assert self._loop is not None
        bitrates, estimates = self._core.bandwidth_report()
        for router_id, producer_id, bitrate, silent in bitrates:
            self._emit(ProducerBitrateChanged(router_id, producer_id, bitrate, silent))
        for router_id, transport_id, estimate in estimates:
            self._emit(TransportEstimateChanged(router_id, transport_id, estimate))
        self._bandwidth_timer = self._loop.call_later(BANDWIDTH_TICK, self._bandwidth_tick)

    def retell_bandwidth(self) -> None:
        """The next bandwidth tick tells every video bitrate (silent or not) and every subscriber
        estimate, moved or not: for a control plane that has just connected, which holds none of
        what was told before (engine/bitrates.pxi bw_retell)."""
        self._core.bandwidth_retell()

    def _spanning_routers(self) -> set[int]:
        """The routers some of whose media crosses a pipe (their meetings span workers): a pipe
        transport consumes one of their producers, or one of their consumers forwards a piped
        producer. Found from the pipe transports, so a worker without pipes pays nothing."""
        out: set[int] = set()
        for transport in self._pipes:
            out.update(c.producer.transport.router.id for c in transport.consumers.values())
            for producer in transport.producers.values():
                out.update(c.transport.router.id for c in producer.consumers.values())
        return out

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
            self.slow_sent += 1
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

    # ---- table -----------------------------------------------------------------------------

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
        stats["slow_unhandled"] = self.slow_unhandled
        stats["slow_sent"] = self.slow_sent
        stats["ssrc_learn_pending"] = stats.get("ssrc_learn_queued", 0) - self.ssrc_learn_popped
        arrived = {"stun": stats.get("stun_in", 0), "dtls": stats.get("dtls_in", 0)}
        arrived["unknown_source"] = stats.get("unknown_source", 0)
        stats["slow_pending_by_kind"] = {
            kind: arrived[kind] - stats.get(f"slow_overflow_{kind}", 0) - self.slow_popped[kind] for kind in SLOW_KINDS
        }
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
