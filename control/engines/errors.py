"""Errors of the engine registry; all are EngineChannelError."""

from __future__ import annotations

from collections.abc import Sequence

from contract.acks import Ack
from contract.ops import Operation


class EngineChannelError(Exception):
    """Base of the registry's errors."""


class UnknownWorker(EngineChannelError):
    """No worker of that id is known (never connected, or lost)."""


class NoWorkerAvailable(EngineChannelError):
    """No live worker to place a meeting on."""


class WorkerLostError(EngineChannelError):
    """The worker was lost before it acked the batch."""


class RegistryClosed(EngineChannelError):
    """The control plane is shutting down."""


class InvalidOps(EngineChannelError, ValueError):
    """An operation does not follow the wire format (nothing was sent)."""


class AckTimeout(EngineChannelError, TimeoutError):
    """No ack in time. The batch stays queued, in order, and is applied when the worker acks it."""

    def __init__(self, worker_id: str, seconds: float) -> None:
        super().__init__(f"engine worker {worker_id!r} did not ack within {seconds:g} s")
        self.worker_id = worker_id


class OpsRefused(EngineChannelError):
    """The worker applied the batch but refused some of its operations (the others are in force)."""

    def __init__(self, worker_id: str, ack: Ack, ops: Sequence[Operation]) -> None:
        details = "; ".join(
            f"{ops[i].name} {ops[i].id!r}: {r.get('error')}: {r.get('message')}" for i, r in ack.errors()
        )
        super().__init__(f"engine worker {worker_id!r} refused: {details}")
        self.worker_id = worker_id
        self.ack = ack
