"""Engine workers as the control plane sees them: the registry of their desired tables
(`registry`, its `errors` and the `events` it reports), placement of meetings on them
(`placement`), the WebSocket endpoint they dial (`channel`) and its routes (`routes`). The wire
format is the `contract` package."""

from control.engines.channel import CHANNEL_PATH
from control.engines.errors import (
    AckTimeout,
    EngineChannelError,
    InvalidOps,
    NoWorkerAvailable,
    OpsRefused,
    RegistryClosed,
    UnknownWorker,
    WorkerLostError,
)
from control.engines.events import EngineEvent, RegistryEvent, WorkerConnected, WorkerDisconnected, WorkerLost
from control.engines.registry import EngineRegistry, WorkerInfo
from control.engines.routes import routes

__all__ = [
    "CHANNEL_PATH",
    "AckTimeout",
    "EngineChannelError",
    "EngineEvent",
    "EngineRegistry",
    "InvalidOps",
    "NoWorkerAvailable",
    "OpsRefused",
    "RegistryClosed",
    "RegistryEvent",
    "UnknownWorker",
    "WorkerConnected",
    "WorkerDisconnected",
    "WorkerInfo",
    "WorkerLost",
    "WorkerLostError",
    "routes",
]
