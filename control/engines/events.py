"""What the registry tells its listeners (the meetings layer) about engine workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract.stats import Stats

LIFECYCLE = ("connected", "disconnected", "restarting", "lost")
"""A worker's lifecycle states, as `EngineRegistry.lifecycle` and /metrics report them: connected;
disconnected (away, within the grace period); restarting (its supervisor saw it exit and starts it
again); lost (gone longer than the grace period, or exited, or came back as a new process)."""


@dataclass(frozen=True)
class WorkerConnected:
    worker_id: str
    resynced: bool
    """A sync batch was sent (the worker restarted, the control plane did, or acks were missing)."""
    address_changed: bool
    """The worker's UDP address differs from before: its WebRTC peers need new candidates."""


@dataclass(frozen=True)
class WorkerDisconnected:
    worker_id: str


@dataclass(frozen=True)
class WorkerLost:
    """The worker stayed away longer than the grace period; its table is forgotten. The meetings
    layer tells the participants of these transports to reconnect (ICE restart) to a live worker."""

    worker_id: str
    routers: list[str]
    transports: list[str]


@dataclass(frozen=True)
class EngineEvent:
    """An event a worker reported (transport state changed, SSRC learned, transport failed...)."""

    worker_id: str
    event: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StatsReported:
    """A worker's periodic stats report (contract.stats), as it came."""

    worker_id: str
    stats: Stats


RegistryEvent = WorkerConnected | WorkerDisconnected | WorkerLost | EngineEvent | StatsReported
Listener = Callable[[RegistryEvent], None]
