"""The worker's side of the engine channel: it dials the control plane, authenticates, applies the
versioned table operations it receives (`TableExecutor`) and acks them, reports events and stats,
and reconnects with backoff. Media keeps flowing while it is disconnected: the engine's table stays
as it was. The wire format is the `contract` package.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import socket
from ssl import SSLContext
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from contract import framing, handshake
from contract.acks import Ack
from contract.framing import ProtocolError
from contract.ops import parse_batch
from contract.stats import CONGESTION, REPAIR, SLOW_DROPS, TRANSPORT_ESTIMATE, Queue, Stats
from engine import ClosedError, Consumer, Engine, Producer, Router, Transport
from engine.events import (
    AudioLevels,
    DominantSpeakerChanged,
    ProducerBitrateChanged,
    ProducerSsrcLearned,
    TransportEstimateChanged,
    TransportRemoteChanged,
    TransportStateChanged,
)
from engine.worker.executor import TableExecutor

logger = logging.getLogger(__name__)


def default_worker_id(engine: Engine) -> str:
    return f"{socket.gethostname()}:{engine.address[1]}"


def capabilities() -> list[str]:
    caps = ["plain"]
    if hasattr(Router, "create_webrtc_transport"):
        caps.append("webrtc")
    return caps


EVENT_NAMES: dict[type, str] = {
    TransportStateChanged: "transport_state_changed",
    TransportRemoteChanged: "transport_remote_changed",
    ProducerSsrcLearned: "producer_ssrc_learned",
    DominantSpeakerChanged: "dominant_speaker_changed",
    ProducerBitrateChanged: "producer_bitrate_changed",
    TransportEstimateChanged: "transport_estimate_changed",
    AudioLevels: "audio_levels",
}
"""Each engine event's name on the wire."""


def _attribute(engine: Engine, name: str, default: list[Any]) -> list[Any]:
    """An engine property for the hello, or `default` where this engine lacks it or cannot tell."""
    try:
        return list(getattr(engine, name, None) or default)
    except Exception:
        logger.exception("engine.%s failed; reporting %r", name, default)
        return default


class AuthenticationFailed(Exception):
    """The control plane refused our secret, or failed to prove it knows it."""


class EngineChannel:
    """Keeps one engine worker connected to the control plane at `url` (ws:// or wss://)."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        secret: str,
        worker_id: str | None = None,
        *,
        reconnect_initial: float = 0.2,
        reconnect_max: float = 5.0,
        stats_interval: float = 5.0,
        handshake_timeout: float = 10.0,
        ping_interval: float = 10.0,
        ssl: SSLContext | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the engine channel needs a secret")
        self.engine = engine
        self.url = url
        self.worker_id = worker_id or default_worker_id(engine)
        self.executor = TableExecutor(engine)
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.stats_interval = stats_interval
        self.handshake_timeout = handshake_timeout
        self.ping_interval = ping_interval
        self.ssl = ssl
        """TLS context of a wss:// URL (None: the system's CAs)."""
        self.connected = asyncio.Event()
        """Set while a session is authenticated."""
        self.sessions = 0
        """Authenticated sessions so far."""
        self.last_close: tuple[int, str] | None = None
        """(code, reason) the control plane gave when it last closed the connection."""
        self._secret = secret
        self._outbox: asyncio.Queue[str] | None = None
        self._failures = 0
        if hasattr(engine, "on_event"):
            engine.on_event = self._on_engine_event

    # -- the loop --

    async def run(self) -> None:
        """Connects, serves and reconnects with backoff until cancelled."""
        delay = self.reconnect_initial
        while True:
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except AuthenticationFailed as error:
                logger.error("engine channel to %s: %s", self.url, error)
                delay = self.reconnect_max
            except ConnectionClosed as error:
                if self.connected.is_set():
                    delay = self.reconnect_initial
                code = error.rcvd.code if error.rcvd is not None else None
                reason = error.rcvd.reason if error.rcvd is not None else ""
                if code is not None:
                    self.last_close = (code, reason)
                if code == framing.CLOSE_AUTH_FAILED:
                    logger.error("control plane refused this worker: %s (check the secret)", reason)
                    delay = self.reconnect_max
                else:
                    logger.warning("engine channel to %s closed (%s %s)", self.url, code, reason)
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ProtocolError) as error:
                self._failures += 1  # one warning per run of failures, then one every 20
                logger.log(
                    logging.WARNING if self._failures % 20 == 1 else logging.DEBUG,
                    "engine channel to %s: %s (attempt %d)",
                    self.url,
                    error or type(error).__name__,
                    self._failures,
                )
            finally:
                self.connected.clear()
                self._outbox = None
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.reconnect_max)

    async def _connect_once(self) -> None:
        async with connect(
            self.url,
            max_size=framing.MAX_FRAME_BYTES,
            open_timeout=self.handshake_timeout,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval * 2,
            close_timeout=2,
            **({"ssl": self.ssl} if self.ssl is not None else {}),
        ) as ws:
            await self._handshake(ws)
            outbox: asyncio.Queue[str] = asyncio.Queue()
            self._outbox = outbox
            # what was told before is not this control plane's (a restarted one knows nothing, and
            # events are not kept while disconnected): the next bandwidth tick tells it all
            self.engine.retell_bandwidth()
            self.sessions += 1
            self._failures = 0
            self.connected.set()
            logger.info("engine channel to %s: connected as %s", self.url, self.worker_id)
            tasks = [asyncio.create_task(self._writer(ws, outbox)), asyncio.create_task(self._stats(outbox))]
            try:
                async for frame in ws:
                    self._on_frame(frame, outbox)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            await ws.wait_closed()
            raise ConnectionClosed(ws.close_rcvd, ws.close_sent)

    async def _handshake(self, ws: ClientConnection) -> None:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the frame does, and a stopping worker would then hang in its reconnect loop
        async with asyncio.timeout(self.handshake_timeout):
            challenge = framing.decode(await ws.recv())
        if challenge["type"] != "challenge" or challenge.get("protocol") != framing.PROTOCOL:
            raise ProtocolError(
                f"expected a protocol {framing.PROTOCOL} challenge, got {challenge['type']!r} "
                f"protocol {challenge.get('protocol')!r}"
            )
        server_nonce = challenge.get("nonce")
        if not isinstance(server_nonce, str) or not 16 <= len(server_nonce) <= 128:
            raise ProtocolError("challenge has a bad nonce")
        nonce = secrets.token_hex(16)
        engine = self.engine
        hello = {
            "type": "hello",
            "protocol": framing.PROTOCOL,
            "worker_id": self.worker_id,
            "nonce": nonce,
            "proof": handshake.hello_proof(self._secret, server_nonce, nonce, self.worker_id),
            "address": list(engine.address),
            "candidates": [list(c) for c in _attribute(engine, "candidates", [engine.address])],
            "dtls_fingerprints": [list(f) for f in _attribute(engine, "dtls_fingerprints", [])],
            "capabilities": capabilities(),
            "table": self.executor.report(),
        }
        await ws.send(framing.encode(hello))
        async with asyncio.timeout(self.handshake_timeout):
            welcome = framing.decode(await ws.recv())
        if welcome["type"] != "welcome":
            raise ProtocolError(f"expected a welcome, got {welcome['type']!r}")
        expected = handshake.welcome_proof(self._secret, server_nonce, nonce, self.worker_id)
        if not handshake.proofs_match(expected, welcome.get("proof")):
            await ws.close(framing.CLOSE_AUTH_FAILED, "control plane failed to prove the secret")
            raise AuthenticationFailed("the control plane does not know our secret")

    def _on_frame(self, frame: str | bytes, outbox: asyncio.Queue[str]) -> None:
        try:
            message = framing.decode(frame)
            kind = message["type"]
            if kind == "ops":
                batch = parse_batch(message)
            elif kind == "error":
                logger.warning("control plane reports an error: %s %s", message.get("code"), message.get("message"))
                return
            else:
                raise ProtocolError(f"unexpected frame type {kind!r}")
        except ProtocolError as error:
            logger.warning("malformed frame from the control plane: %s", error)
            outbox.put_nowait(framing.error_frame("malformed", str(error)))
            return
        if batch.epoch == self.executor.epoch and batch.version <= self.executor.version:
            outbox.put_nowait(
                framing.error_frame("stale_version", f"version {batch.version} is not after {self.executor.version}")
            )
            return
        results = self.executor.apply_batch(batch)
        outbox.put_nowait(framing.encode(Ack(batch.version, results).to_wire()))

    @staticmethod
    async def _writer(ws: ClientConnection, outbox: asyncio.Queue[str]) -> None:
        while True:
            frame = await outbox.get()
            try:
                await ws.send(frame)
            except ConnectionClosed:
                return

    async def _stats(self, outbox: asyncio.Queue[str]) -> None:
        while True:
            stats = report(self.engine.stats(), self.executor.table.counts(), self._transport_estimates())
            outbox.put_nowait(framing.encode(stats.to_wire()))
            await asyncio.sleep(self.stats_interval)

    def _transport_estimates(self) -> dict[str, dict[str, Any]]:
        """Control transport id → its transport's stats, for the report's estimates."""
        out: dict[str, dict[str, Any]] = {}
        for oid, obj in self.executor.objects.items():
            if isinstance(obj, Transport) and not obj.closed:
                out[oid] = obj.stats()
        return out

    def _on_engine_event(self, event: object) -> None:
        """engine.on_event: forwards the event with engine objects named by their control ids."""
        outbox = self._outbox
        if outbox is None:
            logger.debug("engine event while disconnected, not reported: %r", event)
            return
        name = EVENT_NAMES.get(type(event))
        if name is None:
            logger.debug("engine event without a wire name, not reported: %r", event)
            return
        message: dict[str, Any] = {"type": "event", "event": name}
        names = [f.name for f in dataclasses.fields(event)] if dataclasses.is_dataclass(event) else list(vars(event))
        for name in names:
            raw = getattr(event, name)
            if name == "levels":  # AudioLevels: (producer, levels) pairs, of the control plane's producers
                pairs = [(self.executor.id_of(pid), levels) for pid, levels in raw]
                message[name] = [[oid, levels] for oid, levels in pairs if oid is not None]
            elif name.endswith("_id") and isinstance(raw, int):
                message[name] = self.executor.id_of(raw)  # the control plane's id (None: not ours)
            elif isinstance(raw, (Router, Transport, Producer, Consumer)):
                message[f"{name}_id"] = self.executor.id_of(raw.id)
            elif isinstance(raw, (str, int, float, bool, type(None), list, tuple)):
                message[name] = raw
            else:
                message[name] = str(raw)
        outbox.put_nowait(framing.encode(message))


def report(engine: dict[str, Any], table: dict[str, int], transports: dict[str, dict[str, Any]] | None = None) -> Stats:
    """The stats frame (contract.stats) for one engine.stats() snapshot, with each transport's
    bandwidth estimate from `transports` (control id → transport.stats())."""

    def count(mapping: dict[str, Any], name: str) -> int:
        value = mapping.get(name, 0)
        return value if isinstance(value, int) and value >= 0 else 0

    drops = {name: n for name, n in (engine.get("drops") or {}).items() if name != "none"}
    webrtc = engine.get("webrtc") or {}
    slow_drops = {name: count(webrtc, name) for name in SLOW_DROPS if name != "unhandled"}
    slow_drops["unhandled"] = count(engine, "slow_unhandled")
    traffic = {
        "datagrams_in": count(engine, "datagrams_in"),
        "bytes_in": count(engine, "bytes_in"),
        "rtp_in": count(engine, "rtp_in"),
        "rtcp_in": count(engine, "rtcp_in"),
        "stun_in": count(engine, "stun_in"),
        "dtls_in": count(engine, "dtls_in"),
        "unknown_source_in": count(engine, "unknown_source"),
        "packets_out": count(engine, "packets_out"),
        "bytes_out": count(engine, "bytes_out"),
        "slow_out": count(engine, "slow_sent"),
    }
    pending = engine.get("slow_pending_by_kind") or {}
    arrived = {"stun": traffic["stun_in"], "dtls": traffic["dtls_in"], "unknown_source": traffic["unknown_source_in"]}
    queues = {}
    for kind, count_in in arrived.items():
        overflow = count(engine, f"slow_overflow_{kind}")
        queues[kind] = Queue(count(pending, kind), count_in - overflow, overflow)
    queues["ssrc_learning"] = Queue(
        count(engine, "ssrc_learn_pending"), count(engine, "ssrc_learn_queued"), count(engine, "ssrc_learn_overflow")
    )
    repair = {name: count(engine, name) for name in REPAIR if name != "nacks_relayed"}
    repair["nacks_relayed"] = count(engine, "nack_relayed")
    congestion = {name: count(engine, name) for name in CONGESTION}
    estimates = {
        tid: {name: count(stats, name) for name in TRANSPORT_ESTIMATE} for tid, stats in (transports or {}).items()
    }
    return Stats(engine, table, traffic, drops, slow_drops, queues, repair, congestion, estimates)


__all__ = ["AuthenticationFailed", "ClosedError", "EngineChannel", "default_worker_id"]
