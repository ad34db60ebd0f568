"""Podium's media engine: Engine (a worker), Router, Transport, Producer, Consumer.

The public API, one module per class (engine.engine, engine.router, engine.transport,
engine.producer, engine.consumer; errors in engine.errors), re-exported here. docs/engine-api.md
describes it.
"""

from engine._rtp import DROP_NAMES
from engine.consumer import Consumer
from engine.engine import Engine
from engine.errors import ClosedError, EngineError
from engine.producer import KINDS, Producer
from engine.router import Router
from engine.transport import Transport
from engine.webrtc.transport import WebRtcTransport

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
