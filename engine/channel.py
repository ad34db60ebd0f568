"""The worker's side of the engine channel: it dials the control plane, authenticates, applies the
versioned table operations it receives and acks them, reports events and stats, and reconnects with
backoff. Media keeps flowing while it is disconnected: the engine's table stays as it was.

`TableExecutor` maps the control plane's string ids onto engine objects and applies operations
(one batch synchronously, so between two packet batches); `EngineChannel` is the I/O around it.
The wire format is in `engine.channel_protocol`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import random
import re
import secrets
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from engine import ClosedError, Consumer, Engine, EngineError, Producer, Router, Transport
from engine import channel_protocol as proto
from engine.channel_protocol import (
    CLOSE_OPS,
    CONSUMER,
    CREATE_OPS,
    PRODUCER,
    SYNC_OPS,
    TIERS,
    Batch,
    ProtocolError,
    Table,
    TableError,
)

logger = logging.getLogger(__name__)

_CLOSE_OP = {kind: name for name, kind in CLOSE_OPS.items()}


class _Unsupported(Exception):
    pass


class TableExecutor:
    """Applies table operations to an engine. `table` mirrors exactly what was applied, keyed by the
    control plane's ids; `objects` holds the engine object of each id (owned here: closing the
    executor's objects is closing them in the engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = Table()
        self.objects: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        """engine object id (engine.events name objects by it) → control id"""
        self.epoch: str | None = None
        """Epoch of the control plane whose batch was applied last."""
        self.version = 0
        """Version of the last batch applied."""

    def id_of(self, engine_id: int) -> str | None:
        """The control id of the engine object numbered `engine_id`."""
        return self._ids.get(engine_id)

    def report(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "version": self.version, "ops": self.table.dump()}

    # -- batches --

    def apply_batch(self, batch: Batch) -> list[dict[str, Any]]:
        """Applies one batch in order and returns one result per operation; never raises."""
        if batch.sync:
            results = self._sync(batch.ops)
        else:
            results = [self.apply_raw(raw) for raw in batch.ops]
        self.epoch, self.version = batch.epoch, batch.version
        return results

    def apply_raw(self, raw: object) -> dict[str, Any]:
        try:
            op = proto.validate_op(raw)
        except ProtocolError as error:
            return proto.failed(proto.E_INVALID, str(error))
        return self.apply(op)

    def apply(self, op: dict[str, Any]) -> dict[str, Any]:
        """One validated operation: checked against the table, applied to the engine, then
        committed to the table, or refused with the table unchanged."""
        try:
            self.table.check(op)
        except TableError as error:
            return proto.failed(error.code, error.message)
        gone = self.table.closing(op["id"]) if op["op"] in CLOSE_OPS else []
        try:
            extra = self._engine_apply(op)
        except _Unsupported as error:
            return proto.failed(proto.E_UNSUPPORTED, str(error))
        except (EngineError, ValueError, TypeError, OverflowError) as error:
            return proto.failed(proto.E_REFUSED, str(error) or type(error).__name__)
        except Exception as error:
            logger.exception("engine failed on %s", op["op"])
            return proto.failed(proto.E_INTERNAL, f"{type(error).__name__}: {error}")
        self.table.commit(op)
        for oid in gone:
            obj = self.objects.pop(oid, None)
            if obj is not None:
                self._ids.pop(obj.id, None)
        return {"ok": True, **extra}

    def _bind(self, oid: str, obj: Any) -> None:
        self.objects[oid] = obj
        self._ids[obj.id] = oid

    def _engine_apply(self, op: dict[str, Any]) -> dict[str, Any]:
        name, oid, objects = op["op"], op["id"], self.objects
        if name == "create_router":
            self._bind(oid, self.engine.create_router())
        elif name == "create_plain_transport":
            router: Router = objects[op["router_id"]]
            self._bind(oid, router.create_plain_transport(remote=(op["remote"][0], op["remote"][1])))
        elif name == "create_webrtc_transport":
            create = getattr(objects[op["router_id"]], "create_webrtc_transport", None)
            if create is None:
                raise _Unsupported("this engine has no WebRTC transports")
            self._bind(oid, create(ice_ufrag=op["ice_ufrag"], ice_pwd=op["ice_pwd"]))
        elif name == "connect_webrtc_transport":
            transport = objects[oid]
            kwargs: dict[str, Any] = {"dtls_role": op["dtls_role"],
                                      "remote_fingerprints": [tuple(f) for f in op["remote_fingerprints"]]}
            accepted = inspect.signature(transport.connect).parameters
            for key in ("remote_ice_ufrag", "remote_ice_pwd"):
                if op[key] is not None and key in accepted:
                    kwargs[key] = op[key]
            transport.connect(**kwargs)
        elif name == "set_header_extensions":
            objects[oid].set_header_extensions(mid=op["mid"], rid=op["rid"], repaired_rid=op["repaired_rid"])
        elif name == "produce":
            transport = objects[op["transport_id"]]
            kwargs = {k: op[k] for k in ("kind", "ssrc", "payload_type", "source", "clock_rate", "paused")}
            for key in ("mid", "rid", "rtx_ssrc", "rtx_payload_type"):
                if op[key] is not None:
                    kwargs[key] = op[key]
            self._bind(oid, transport.produce(**kwargs))
        elif name == "consume":
            transport = objects[op["transport_id"]]
            kwargs = {k: op[k] for k in ("rtx_ssrc", "rtx_payload_type") if op[k] is not None}
            consumer = transport.consume(objects[op["producer_id"]], ssrc=op["ssrc"],
                                         payload_type=op["payload_type"], paused=op["paused"], **kwargs)
            self._bind(oid, consumer)
            if op["ssrc"] is None:
                op["ssrc"] = consumer.ssrc  # the table keeps the SSRCs the engine allocated
            if op["rtx_ssrc"] is None:
                op["rtx_ssrc"] = getattr(consumer, "rtx_ssrc", None)
            return _consume_result(op)
        elif name in CLOSE_OPS:
            obj = objects.get(oid)
            if obj is not None:
                obj.close()
        elif name in ("pause_producer", "pause_consumer"):
            objects[oid].pause()
        elif name in ("resume_producer", "resume_consumer"):
            objects[oid].resume()
        elif name == "switch_consumer":
            objects[oid].switch(objects[op["producer_id"]])
        elif name == "request_keyframe":
            return {"sent": bool(objects[oid].request_keyframe())}
        return {}

    # -- sync --

    def _sync(self, raw_ops: list[Any]) -> list[dict[str, Any]]:
        """Makes the table exactly the one `raw_ops` lists, keeping every object whose identity
        (and parents) did not change, so media through it is not interrupted."""
        count = len(raw_ops)
        results: list[dict[str, Any] | None] = [None] * count
        ops: list[dict[str, Any] | None] = [None] * count
        desired = Table()
        for i, raw in enumerate(raw_ops):
            try:
                op = proto.validate_op(raw)
                if op["op"] not in SYNC_OPS:
                    raise ProtocolError(f"{op['op']} cannot be part of a sync")
                desired.apply(op)
            except ProtocolError as error:
                results[i] = proto.failed(proto.E_INVALID, str(error))
            except TableError as error:
                results[i] = proto.failed(error.code, error.message)
            else:
                ops[i] = op
        current = self.table
        keep = self._keepable(desired)
        # kept consumers move to their desired producer before any producer closes under them
        for oid in [o for o in keep if current.objects[o]["type"] == CONSUMER]:
            want = desired.objects[oid]["op"]["producer_id"]
            if current.objects[oid]["op"]["producer_id"] != want:
                if not self.apply({"op": "switch_consumer", "id": oid, "producer_id": want})["ok"]:
                    keep.discard(oid)
        # close what is not kept, parents first (closing cascades to children)
        for tier in TIERS:
            for oid in current.ids(tier):
                if oid not in keep and oid in current.objects:
                    self._close(oid)
        # gates of kept objects
        for oid in list(keep):
            record, want = current.objects.get(oid), desired.objects[oid]
            if record is None or record["type"] not in (PRODUCER, CONSUMER):
                continue
            if record["op"]["paused"] != want["op"]["paused"]:
                verb = "pause" if want["op"]["paused"] else "resume"
                if not self.apply({"op": f"{verb}_{record['type']}", "id": oid})["ok"]:
                    self._close(oid)  # recreated below with the right gate
        # everything else, in the sync's order (parents first)
        for i, op in enumerate(ops):
            if op is None:
                continue
            record = current.objects.get(op["id"])
            if op["op"] in CREATE_OPS and record is not None:
                results[i] = {"ok": True, **_consume_result(record["op"])} if op["op"] == "consume" else proto.ok()
            elif (op["op"] == "connect_webrtc_transport" and record is not None and record.get("connect") == op) or (
                    op["op"] == "set_header_extensions" and record is not None and record.get("extensions") == op):
                results[i] = proto.ok()
            else:
                results[i] = self.apply(op)
        return [r if r is not None else proto.failed(proto.E_INTERNAL, "not applied") for r in results]

    def _keepable(self, desired: Table) -> set[str]:
        current, keep = self.table, set()
        for tier in TIERS:
            for oid in current.ids(tier):
                want = desired.objects.get(oid)
                if want is None or want["type"] != tier or current.identity(oid) != desired.identity(oid):
                    continue
                record = current.objects[oid]
                if any(record.get(k) is not None and record[k] != want.get(k) for k in ("connect", "extensions")):
                    continue  # connected (or told its extensions) differently: a new transport
                op = record["op"]
                parents = [op.get("router_id"), op.get("transport_id")]
                if tier == CONSUMER:
                    parents.append(want["op"]["producer_id"])
                    if want["kind"] != record["kind"]:
                        continue
                if all(p in keep for p in parents if p is not None):
                    keep.add(oid)
        return keep

    def _close(self, oid: str) -> None:
        record = self.table.objects.get(oid)
        if record is not None:
            result = self.apply({"op": _CLOSE_OP[record["type"]], "id": oid})
            if not result["ok"]:  # pragma: no cover - closing never fails in the engine
                logger.error("could not close %s %s: %s", record["type"], oid, result)

    def close(self) -> None:
        """Forgets the table (the engine closes its objects itself when it closes)."""
        self.objects.clear()
        self._ids.clear()
        self.table = Table()


def _consume_result(op: dict[str, Any]) -> dict[str, Any]:
    """A consume's result: the consumer's SSRC, and its RTX SSRC when it has an RTX stream."""
    if op.get("rtx_ssrc") is None:
        return {"ssrc": op["ssrc"]}
    return {"ssrc": op["ssrc"], "rtx_ssrc": op["rtx_ssrc"]}


def default_worker_id(engine: Engine) -> str:
    return f"{socket.gethostname()}:{engine.address[1]}"


def capabilities() -> list[str]:
    caps = ["plain"]
    if hasattr(Router, "create_webrtc_transport"):
        caps.append("webrtc")
    return caps


def _event_name(event: object) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


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
                if code == proto.CLOSE_AUTH_FAILED:
                    logger.error("control plane refused this worker: %s (check the secret)", reason)
                    delay = self.reconnect_max
                else:
                    logger.warning("engine channel to %s closed (%s %s)", self.url, code, reason)
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ProtocolError) as error:
                self._failures += 1  # one warning per run of failures, then one every 20
                logger.log(logging.WARNING if self._failures % 20 == 1 else logging.DEBUG,
                           "engine channel to %s: %s (attempt %d)", self.url, error or type(error).__name__,
                           self._failures)
            finally:
                self.connected.clear()
                self._outbox = None
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.reconnect_max)

    async def _connect_once(self) -> None:
        async with connect(self.url, max_size=proto.MAX_FRAME_BYTES, open_timeout=self.handshake_timeout,
                           ping_interval=self.ping_interval, ping_timeout=self.ping_interval * 2,
                           close_timeout=2) as ws:
            await self._handshake(ws)
            outbox: asyncio.Queue[str] = asyncio.Queue()
            self._outbox = outbox
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
            challenge = proto.decode(await ws.recv())
        if challenge["type"] != "challenge" or challenge.get("protocol") != proto.PROTOCOL:
            raise ProtocolError(f"expected a protocol {proto.PROTOCOL} challenge, got {challenge['type']!r} "
                                f"protocol {challenge.get('protocol')!r}")
        server_nonce = challenge.get("nonce")
        if not isinstance(server_nonce, str) or not 16 <= len(server_nonce) <= 128:
            raise ProtocolError("challenge has a bad nonce")
        nonce = secrets.token_hex(16)
        engine = self.engine
        hello = {
            "type": "hello",
            "protocol": proto.PROTOCOL,
            "worker_id": self.worker_id,
            "nonce": nonce,
            "proof": proto.hello_proof(self._secret, server_nonce, nonce, self.worker_id),
            "address": list(engine.address),
            "candidates": [list(c) for c in _attribute(engine, "candidates", [engine.address])],
            "dtls_fingerprints": [list(f) for f in _attribute(engine, "dtls_fingerprints", [])],
            "capabilities": capabilities(),
            "table": self.executor.report(),
        }
        await ws.send(proto.encode(hello))
        async with asyncio.timeout(self.handshake_timeout):
            welcome = proto.decode(await ws.recv())
        if welcome["type"] != "welcome":
            raise ProtocolError(f"expected a welcome, got {welcome['type']!r}")
        expected = proto.welcome_proof(self._secret, server_nonce, nonce, self.worker_id)
        if not proto.proofs_match(expected, welcome.get("proof")):
            await ws.close(proto.CLOSE_AUTH_FAILED, "control plane failed to prove the secret")
            raise AuthenticationFailed("the control plane does not know our secret")

    def _on_frame(self, frame: str | bytes, outbox: asyncio.Queue[str]) -> None:
        try:
            message = proto.decode(frame)
            kind = message["type"]
            if kind == "ops":
                batch = proto.parse_batch(message)
            elif kind == "error":
                logger.warning("control plane reports an error: %s %s", message.get("code"), message.get("message"))
                return
            else:
                raise ProtocolError(f"unexpected frame type {kind!r}")
        except ProtocolError as error:
            logger.warning("malformed frame from the control plane: %s", error)
            outbox.put_nowait(proto.error_frame("malformed", str(error)))
            return
        if batch.epoch == self.executor.epoch and batch.version <= self.executor.version:
            outbox.put_nowait(proto.error_frame(
                "stale_version", f"version {batch.version} is not after {self.executor.version}"))
            return
        results = self.executor.apply_batch(batch)
        outbox.put_nowait(proto.encode({"type": "ack", "version": batch.version, "results": results}))

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
            outbox.put_nowait(proto.encode({"type": "stats", "engine": self.engine.stats(),
                                            "table": self.executor.table.counts()}))
            await asyncio.sleep(self.stats_interval)

    def _on_engine_event(self, event: object) -> None:
        """engine.on_event: forwards the event with engine objects named by their control ids."""
        outbox = self._outbox
        if outbox is None:
            logger.debug("engine event while disconnected, not reported: %r", event)
            return
        message: dict[str, Any] = {"type": "event", "event": _event_name(event)}
        names = [f.name for f in dataclasses.fields(event)] if dataclasses.is_dataclass(event) else list(vars(event))
        for name in names:
            raw = getattr(event, name)
            if name.endswith("_id") and isinstance(raw, int):
                message[name] = self.executor.id_of(raw)  # the control plane's id (None: not ours)
            elif isinstance(raw, (Router, Transport, Producer, Consumer)):
                message[f"{name}_id"] = self.executor.id_of(raw.id)
            elif isinstance(raw, (str, int, float, bool, type(None), list, tuple)):
                message[name] = raw
            else:
                message[name] = str(raw)
        outbox.put_nowait(proto.encode(message))


__all__ = ["EngineChannel", "TableExecutor", "AuthenticationFailed", "ClosedError", "default_worker_id"]
