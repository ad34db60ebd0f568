"""The replicated forwarding table: a worker's objects as plain data, keyed by the control plane's ids.

Both ends fold the same successful operations into one (`Table.apply`), so the control plane's
desired table and the worker's mirror agree after every ack; `dump` gives the operations that build
it again (a sync batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from contract.acks import (
    E_CONFLICT,
    E_DUPLICATE_ID,
    E_UNKNOWN_ID,
    E_WRONG_ROUTER,
    E_WRONG_TYPE,
)
from contract.ops import (
    Close,
    ConnectWebRtcTransport,
    Consume,
    Create,
    CreatePlainTransport,
    CreateWebRtcTransport,
    Operation,
    Produce,
    RequestKeyframe,
    SetGate,
    SetHeaderExtensions,
    SwitchConsumer,
)
from contract.vocabulary import PRODUCER, ROUTER, TIERS

_MUTABLE = frozenset({"paused", "producer_id"})


class TableError(Exception):
    """An operation the table refuses; `code` is one of the E_* result codes of `contract.acks`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Entry:
    """One object of the table."""

    op: Create
    """The operation that created it, with its mutable fields (paused, a consumer's producer_id) current."""
    connect: ConnectWebRtcTransport | None = None
    """A WebRTC transport's connect parameters, once connected."""
    extensions: SetHeaderExtensions | None = None
    """A transport's header extension ids, once told."""
    kind: str | None = None
    """A producer's or consumer's media kind."""

    @property
    def tier(self) -> str:
        return self.op.tier


class Table:
    """A worker's forwarding table."""

    def __init__(self) -> None:
        self.objects: dict[str, Entry] = {}

    @classmethod
    def from_ops(cls, ops: Iterable[Operation]) -> Table:
        """The table these operations build; raises TableError on the first refused one."""
        table = cls()
        for op in ops:
            table.apply(op)
        return table

    def copy(self) -> Table:
        table = Table()
        table.objects = {k: dataclasses.replace(v) for k, v in self.objects.items()}
        return table

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self.objects == other.objects

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.objects)

    def ids(self, tier: str) -> list[str]:
        return [oid for oid, entry in self.objects.items() if entry.tier == tier]

    def counts(self) -> dict[str, int]:
        counts = {f"{tier}s": 0 for tier in TIERS}
        for entry in self.objects.values():
            counts[entry.tier + "s"] += 1
        return counts

    def router_of(self, oid: str) -> str | None:
        entry = self.objects.get(oid)
        while entry is not None and entry.tier != ROUTER:
            oid = entry.op.parents()[0][0]
            entry = self.objects.get(oid)
        return oid if entry is not None else None

    def dump(self) -> list[Operation]:
        """Operations that build this table on an empty worker: creates by tier (so parents come
        first, whatever order switches left them in), each transport's connect and header
        extensions right after it."""
        ops: list[Operation] = []
        for tier in TIERS:
            for entry in self.objects.values():
                if entry.tier == tier:
                    ops.append(entry.op)
                    if entry.connect is not None:
                        ops.append(entry.connect)
                    if entry.extensions is not None:
                        ops.append(entry.extensions)
        return ops

    def identity(self, oid: str) -> dict[str, Any]:
        """What cannot change without recreating the object (everything but its mutable fields)."""
        return {k: v for k, v in self.objects[oid].op.to_wire().items() if k not in _MUTABLE}

    def closing(self, oid: str) -> list[str]:
        """`oid` and everything closing it closes: a router's transports, a transport's producers
        and consumers, a producer's consumers (on any transport)."""
        if oid not in self.objects:
            return []
        gone = {oid}
        changed = True
        while changed:
            changed = False
            for other, entry in self.objects.items():
                if other not in gone and any(parent in gone for parent, _ in entry.op.parents()):
                    gone.add(other)
                    changed = True
        return [o for o in self.objects if o in gone]

    # -- operations --

    def apply(self, op: Operation) -> None:
        self.check(op)
        self.commit(op)

    def _get(self, oid: str, tier: str) -> Entry:
        entry = self.objects.get(oid)
        if entry is None:
            raise TableError(E_UNKNOWN_ID, f"no {tier} {oid!r}")
        if entry.tier != tier:
            raise TableError(E_WRONG_TYPE, f"{oid!r} is a {entry.tier}, not a {tier}")
        return entry

    def check(self, op: Operation) -> None:
        """Raises TableError if `op` cannot apply to this table."""
        _check(op, self)

    def commit(self, op: Operation) -> None:
        """Applies a checked operation."""
        _commit(op, self)

    def _check_create(self, op: Create) -> None:
        if op.id in self.objects:
            raise TableError(E_DUPLICATE_ID, f"{op.id!r} already exists (a {self.objects[op.id].tier})")
        for parent, tier in op.parents():
            self._get(parent, tier)


def _updated(op: Create, **changes: Any) -> Create:
    """`op` with `changes` to its mutable fields, which come from checked operations: not checked again."""
    new = object.__new__(type(op))
    new.__dict__.update(op.__dict__, **changes)
    return new


# ---- checks, by operation type ------------------------------------------------------------------


@singledispatch
def _check(op: Operation, table: Table) -> None:
    """By default: the object the operation names must exist, of its tier."""
    table._get(op.id, op.tier)


@_check.register
def _(op: Create, table: Table) -> None:
    table._check_create(op)


@_check.register
def _(op: Produce, table: Table) -> None:
    table._check_create(op)
    if op.ssrc is not None:
        for entry in table.objects.values():
            other = entry.op
            if isinstance(other, Produce) and other.transport_id == op.transport_id and other.ssrc == op.ssrc:
                raise TableError(E_CONFLICT, f"ssrc {op.ssrc} is already produced on this transport")


@_check.register
def _(op: Consume, table: Table) -> None:
    table._check_create(op)
    if not _across_pipe(table, op.producer_id, op.transport_id) and table.router_of(op.producer_id) != table.router_of(
        op.transport_id
    ):
        raise TableError(E_WRONG_ROUTER, "a consumer must be in its producer's router")


@_check.register
def _(op: Close, table: Table) -> None:
    entry = table.objects.get(op.id)
    if entry is not None and entry.tier != op.tier:
        raise TableError(E_WRONG_TYPE, f"{op.id!r} is a {entry.tier}, not a {op.tier}")


@_check.register
def _(op: ConnectWebRtcTransport, table: Table) -> None:
    entry = table._get(op.id, op.tier)
    if not isinstance(entry.op, CreateWebRtcTransport):
        raise TableError(E_WRONG_TYPE, f"{op.id!r} is not a WebRTC transport")
    if entry.connect is not None:
        raise TableError(E_CONFLICT, f"transport {op.id!r} is already connected")


@_check.register
def _(op: SwitchConsumer, table: Table) -> None:
    consumer = table._get(op.id, op.tier)
    producer = table._get(op.producer_id, PRODUCER)
    if producer.kind != consumer.kind:
        raise TableError(E_CONFLICT, f"cannot switch a {consumer.kind} consumer to a {producer.kind} producer")
    transport_id = consumer.op.parents()[0][0]
    if not _across_pipe(table, op.producer_id, transport_id) and table.router_of(op.producer_id) != table.router_of(
        transport_id
    ):
        raise TableError(E_WRONG_ROUTER, "a consumer must be in its producer's router")


def _across_pipe(table: Table, producer_id: str, transport_id: str) -> bool:
    """Whether the producer comes from, or the consumer goes to, a pipe to another worker (which
    serves every router)."""
    producer = table.objects.get(producer_id)
    return _is_pipe(table, transport_id) or (producer is not None and _is_pipe(table, producer.op.parents()[0][0]))


def _is_pipe(table: Table, transport_id: str) -> bool:
    entry = table.objects.get(transport_id)
    return entry is not None and isinstance(entry.op, CreatePlainTransport) and entry.op.pipe


# ---- commits, by operation type -----------------------------------------------------------------


@singledispatch
def _commit(op: Operation, table: Table) -> None:
    raise TypeError(f"no table rule for {type(op).__name__}")  # pragma: no cover - every operation has one


@_commit.register
def _(op: Create, table: Table) -> None:
    table.objects[op.id] = Entry(op)


@_commit.register
def _(op: Produce, table: Table) -> None:
    table.objects[op.id] = Entry(op, kind=op.kind)


@_commit.register
def _(op: Consume, table: Table) -> None:
    table.objects[op.id] = Entry(op, kind=table.objects[op.producer_id].kind)


@_commit.register
def _(op: Close, table: Table) -> None:
    for gone in table.closing(op.id):
        del table.objects[gone]


@_commit.register
def _(op: ConnectWebRtcTransport, table: Table) -> None:
    table.objects[op.id].connect = op


@_commit.register
def _(op: SetHeaderExtensions, table: Table) -> None:
    table.objects[op.id].extensions = op


@_commit.register
def _(op: SetGate, table: Table) -> None:
    entry = table.objects[op.id]
    entry.op = _updated(entry.op, paused=op.paused)


@_commit.register
def _(op: SwitchConsumer, table: Table) -> None:
    entry = table.objects[op.id]
    entry.op = _updated(entry.op, producer_id=op.producer_id)


@_commit.register
def _(op: RequestKeyframe, table: Table) -> None:
    pass
