"""Applies the control plane's table operations to an engine, keyed by the control plane's ids.

One batch is applied synchronously (so between two packet batches). Each operation is checked
against the pure `Table` first, applied to the engine, then committed to the table, or refused with
the table unchanged; its result says which. The engine side of each operation is one handler,
chosen by the operation's type.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import singledispatch
from typing import Any

from contract import acks
from contract.acks import Result
from contract.framing import ProtocolError
from contract.ops import (
    CLOSE,
    GATE,
    SYNC_TYPES,
    Batch,
    Close,
    ConnectWebRtcTransport,
    Consume,
    Create,
    CreatePlainTransport,
    CreateRouter,
    CreateWebRtcTransport,
    Operation,
    Produce,
    RequestKeyframe,
    SetGate,
    SetHeaderExtensions,
    SwitchConsumer,
    parse_op,
)
from contract.table import Entry, Table, TableError
from contract.vocabulary import CONSUMER, PRODUCER, TIERS
from engine import Engine, EngineError

logger = logging.getLogger(__name__)


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
        return {"epoch": self.epoch, "version": self.version, "ops": [op.to_wire() for op in self.table.dump()]}

    # -- batches --

    def apply_batch(self, batch: Batch) -> list[Result]:
        """Applies one batch in order and returns one result per operation; never raises."""
        if batch.sync:
            results = self._sync(batch.ops)
            # a control plane that made the table over (after its restart, or taking a meeting over
            # from another replica) knows nothing of what the bandwidth tick told before
            self.engine.retell_bandwidth()
        else:
            results = [self.apply_raw(raw) for raw in batch.ops]
        self.epoch, self.version = batch.epoch, batch.version
        return results

    def apply_raw(self, raw: object) -> Result:
        try:
            op = parse_op(raw)
        except ProtocolError as error:
            return acks.failed(acks.E_INVALID, str(error))
        return self.apply(op)

    def apply(self, op: Operation) -> Result:
        """One operation: checked against the table, applied to the engine, then committed to the
        table, or refused with the table unchanged."""
        try:
            self.table.check(op)
        except TableError as error:
            return acks.failed(error.code, error.message)
        gone = self.table.closing(op.id) if isinstance(op, Close) else []
        try:
            applied, result = _run(op, self)
        except _Unsupported as error:
            return acks.failed(acks.E_UNSUPPORTED, str(error))
        except (EngineError, ValueError, TypeError, OverflowError) as error:
            return acks.failed(acks.E_REFUSED, str(error) or type(error).__name__)
        except Exception as error:
            logger.exception("engine failed on %s", op.name)
            return acks.failed(acks.E_INTERNAL, f"{type(error).__name__}: {error}")
        self.table.commit(applied)
        for oid in gone:
            obj = self.objects.pop(oid, None)
            if obj is not None:
                self._ids.pop(obj.id, None)
        return result

    def _bind(self, oid: str, obj: Any) -> None:
        self.objects[oid] = obj
        self._ids[obj.id] = oid

    # -- sync --

    def _sync(self, raw_ops: list[Any]) -> list[Result]:
        """Makes the table exactly the one `raw_ops` lists, keeping every object whose identity
        (and parents) did not change, so media through it is not interrupted."""
        count = len(raw_ops)
        results: list[Result | None] = [None] * count
        ops: list[Operation | None] = [None] * count
        desired = Table()
        for i, raw in enumerate(raw_ops):
            try:
                op = parse_op(raw)
                if not isinstance(op, SYNC_TYPES):
                    raise ProtocolError(f"{op.name} cannot be part of a sync")
                desired.apply(op)
            except ProtocolError as error:
                results[i] = acks.failed(acks.E_INVALID, str(error))
            except TableError as error:
                results[i] = acks.failed(error.code, error.message)
            else:
                ops[i] = op
        current = self.table
        keep = self._keepable(desired)
        # kept consumers move to their desired producer before any producer closes under them
        for oid in [o for o in keep if current.objects[o].tier == CONSUMER]:
            want = desired.objects[oid].op
            have = current.objects[oid].op
            assert isinstance(want, Consume) and isinstance(have, Consume)
            if have.producer_id != want.producer_id and not self.apply(SwitchConsumer(oid, want.producer_id))["ok"]:
                keep.discard(oid)
        # close what is not kept, parents first (closing cascades to children)
        for tier in TIERS:
            for oid in current.ids(tier):
                if oid not in keep and oid in current.objects:
                    self._close(oid)
        # gates of kept objects
        for oid in list(keep):
            entry = current.objects.get(oid)
            if entry is None or entry.tier not in (PRODUCER, CONSUMER):
                continue
            paused = _paused(desired.objects[oid])
            if _paused(entry) != paused and not self.apply(GATE[entry.tier, paused](oid))["ok"]:
                self._close(oid)  # recreated below with the right gate
        # everything else, in the sync's order (parents first)
        for i, wanted in enumerate(ops):
            if wanted is None:
                continue
            entry = current.objects.get(wanted.id)
            if isinstance(wanted, Create) and entry is not None:
                results[i] = consume_result(entry.op) if isinstance(entry.op, Consume) else acks.ok()
            elif entry is not None and wanted in (entry.connect, entry.extensions):
                results[i] = acks.ok()
            else:
                results[i] = self.apply(wanted)
        return [r if r is not None else acks.failed(acks.E_INTERNAL, "not applied") for r in results]

    def _keepable(self, desired: Table) -> set[str]:
        current, keep = self.table, set()
        for tier in TIERS:
            for oid in current.ids(tier):
                want = desired.objects.get(oid)
                if want is None or want.tier != tier or current.identity(oid) != desired.identity(oid):
                    continue
                entry = current.objects[oid]
                if (entry.connect is not None and entry.connect != want.connect) or (
                    entry.extensions is not None and entry.extensions != want.extensions
                ):
                    continue  # connected (or told its extensions) differently: a new transport
                if want.kind != entry.kind:
                    continue
                if all(parent in keep for parent, _ in want.op.parents()):
                    keep.add(oid)
        return keep

    def _close(self, oid: str) -> None:
        entry = self.table.objects.get(oid)
        if entry is not None:
            result = self.apply(CLOSE[entry.tier](oid))
            if not result["ok"]:  # pragma: no cover - closing never fails in the engine
                logger.error("could not close %s %s: %s", entry.tier, oid, result)

    def close(self) -> None:
        """Forgets the table (the engine closes its objects itself when it closes)."""
        self.objects.clear()
        self._ids.clear()
        self.table = Table()


# ---- the engine side of each operation, by type ------------------------------------------------


@singledispatch
def _run(op: Operation, executor: TableExecutor) -> tuple[Operation, Result]:
    """The engine side of `op`: (the operation as applied, its result)."""
    raise TypeError(f"no engine handler for {type(op).__name__}")  # pragma: no cover - every type has one


@_run.register
def _(op: CreateRouter, executor: TableExecutor) -> tuple[Operation, Result]:
    executor._bind(op.id, executor.engine.create_router())
    return op, acks.ok()


@_run.register
def _(op: CreatePlainTransport, executor: TableExecutor) -> tuple[Operation, Result]:
    transport = executor.objects[op.router_id].create_plain_transport(remote=op.remote, pipe=op.pipe)
    if op.srtp_profile is not None and op.srtp_local_key is not None and op.srtp_remote_key is not None:
        try:
            transport.set_srtp(op.srtp_profile, bytes.fromhex(op.srtp_local_key), bytes.fromhex(op.srtp_remote_key))
        except BaseException:
            transport.close()
            raise
    executor._bind(op.id, transport)
    return op, acks.ok()


@_run.register
def _(op: CreateWebRtcTransport, executor: TableExecutor) -> tuple[Operation, Result]:
    create = getattr(executor.objects[op.router_id], "create_webrtc_transport", None)
    if create is None:
        raise _Unsupported("this engine has no WebRTC transports")
    executor._bind(op.id, create(ice_ufrag=op.ice_ufrag, ice_pwd=op.ice_pwd))
    return op, acks.ok()


@_run.register
def _(op: ConnectWebRtcTransport, executor: TableExecutor) -> tuple[Operation, Result]:
    executor.objects[op.id].connect(
        dtls_role=op.dtls_role,
        remote_fingerprints=list(op.remote_fingerprints),
        remote_ice_ufrag=op.remote_ice_ufrag,
        remote_ice_pwd=op.remote_ice_pwd,
    )
    return op, acks.ok()


@_run.register
def _(op: SetHeaderExtensions, executor: TableExecutor) -> tuple[Operation, Result]:
    executor.objects[op.id].set_header_extensions(
        mid=op.mid,
        rid=op.rid,
        repaired_rid=op.repaired_rid,
        abs_send_time=op.abs_send_time,
        audio_level=op.audio_level,
        transport_cc=op.transport_cc,
    )
    return op, acks.ok()


@_run.register
def _(op: Produce, executor: TableExecutor) -> tuple[Operation, Result]:
    producer = executor.objects[op.transport_id].produce(
        op.kind,
        op.ssrc,
        op.payload_type,
        app_data=op.app_data,
        clock_rate=op.clock_rate,
        paused=op.paused,
        mid=op.mid,
        rid=op.rid,
        rtx_ssrc=op.rtx_ssrc,
        rtx_payload_type=op.rtx_payload_type,
        codec=op.codec,
        below_top=op.below_top,
    )
    executor._bind(op.id, producer)
    return op, acks.ok()


@_run.register
def _(op: Consume, executor: TableExecutor) -> tuple[Operation, Result]:
    consumer = executor.objects[op.transport_id].consume(
        executor.objects[op.producer_id],
        ssrc=op.ssrc,
        payload_type=op.payload_type,
        paused=op.paused,
        rtx_ssrc=op.rtx_ssrc,
        rtx_payload_type=op.rtx_payload_type,
        mid=op.mid,
    )
    executor._bind(op.id, consumer)
    if op.rtx_ssrc is None and consumer.rtx_ssrc is not None:
        op = dataclasses.replace(op, rtx_ssrc=consumer.rtx_ssrc)  # the table keeps what the engine allocated
    return op, consume_result(op)


@_run.register
def _(op: Close, executor: TableExecutor) -> tuple[Operation, Result]:
    obj = executor.objects.get(op.id)
    if obj is not None:
        obj.close()
    return op, acks.ok()


@_run.register
def _(op: SetGate, executor: TableExecutor) -> tuple[Operation, Result]:
    obj = executor.objects[op.id]
    if op.paused:
        obj.pause()
    else:
        obj.resume()
    return op, acks.ok()


@_run.register
def _(op: SwitchConsumer, executor: TableExecutor) -> tuple[Operation, Result]:
    executor.objects[op.id].switch(executor.objects[op.producer_id], at_keyframe=op.at_keyframe)
    return op, acks.ok()


@_run.register
def _(op: RequestKeyframe, executor: TableExecutor) -> tuple[Operation, Result]:
    return op, acks.ok(sent=bool(executor.objects[op.id].request_keyframe()))


def _paused(entry: Entry) -> bool:
    op = entry.op
    assert isinstance(op, (Produce, Consume))
    return op.paused


def consume_result(op: Consume) -> Result:
    """A consume's result: the consumer's SSRC, and its RTX SSRC when it has an RTX stream."""
    if op.rtx_ssrc is None:
        return acks.ok(ssrc=op.ssrc)
    return acks.ok(ssrc=op.ssrc, rtx_ssrc=op.rtx_ssrc)
