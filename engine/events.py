"""Events the engine reports through ``engine.on_event`` (small dataclasses, one per fact).

They happen in the engine's loop thread, between two receive batches; the callback must not block.
"""

from __future__ import annotations

from dataclasses import dataclass

Address = tuple[str, int]


@dataclass(frozen=True)
class TransportStateChanged:
    """A WebRTC transport's state changed."""

    transport_id: int
    state: str
    """``new``, ``connecting``, ``connected``, ``disconnected``, ``failed`` or ``closed``."""
    reason: str | None = None
    """Why it failed or closed (fingerprint mismatch, DTLS alert, close_notify...)."""


@dataclass(frozen=True)
class TransportRemoteChanged:
    """ICE nominated another remote address (nomination, NAT rebinding, consent expiry)."""

    transport_id: int
    remote: Address | None
    """Where media is sent now; None when no address is trusted any more."""


@dataclass(frozen=True)
class ProducerSsrcLearned:
    """A producer announced without SSRC got one from its MID/RID header extensions."""

    producer_id: int
    ssrc: int
    rtx: bool = False
    """True when it is the SSRC of the producer's retransmissions (repaired-rid or RTX payload type)."""


@dataclass(frozen=True)
class DominantSpeakerChanged:
    """Another audio producer of a router became its dominant speaker (contract/speaker.py)."""

    router_id: int
    producer_id: int | None
    """None: nobody speaks (silence, or the speaker's producer closed or was paused)."""


@dataclass(frozen=True)
class ProducerBitrateChanged:
    """A video producer's measured bitrate moved, or it fell silent or came back (engine/bitrates.pxi)."""

    router_id: int
    producer_id: int
    bitrate_bps: int
    silent: bool = False
    """No media in the last two passes: a simulcast layer its browser stopped (or was told to stop)."""


@dataclass(frozen=True)
class TransportEstimateChanged:
    """The bandwidth a transport estimates toward its peer moved (engine/bitrates.pxi)."""

    router_id: int
    transport_id: int
    estimate_bps: int


@dataclass(frozen=True)
class AudioLevels:
    """What a router's open audio producers sent over the last speaker tick, reported while its
    meeting spans workers (some of its media crosses a pipe): there the control plane decides the
    meeting's speaker from every worker's report of the producers it is the origin of."""

    router_id: int
    elapsed: float
    """Seconds the levels cover (frames missing from them were silent)."""
    levels: tuple[tuple[int, str], ...]
    """(producer id, its RFC 6464 level bytes as hex, oldest first), for every open audio producer."""


EngineEvent = (
    TransportStateChanged
    | TransportRemoteChanged
    | ProducerSsrcLearned
    | DominantSpeakerChanged
    | AudioLevels
    | ProducerBitrateChanged
    | TransportEstimateChanged
)
