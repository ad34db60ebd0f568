"""The worker's stats report: one {"type": "stats"} frame every few seconds, unsolicited.

Every count is the engine's since the worker process started: it only grows until the worker
restarts (then it starts again from zero, which Prometheus reads as a counter reset). A report is a
snapshot; the control plane keeps the last one per worker and exports it (`GET /metrics`).

    {"type": "stats",
     "engine": {...},                 engine.stats() as is, for people (docs/engine-api.md)
     "table": {"routers": 1, ...},    objects in the worker's table
     "traffic": {"datagrams_in": n, "bytes_in": n, "rtp_in": n, "rtcp_in": n, "stun_in": n,
                 "dtls_in": n, "unknown_source_in": n, "packets_out": n, "bytes_out": n,
                 "slow_out": n},
     "drops": {"unknown_kind": n, "srtp_auth": n, ...},        fast path, by engine drop reason
     "slow_drops": {"untrusted_media": n, ...},                 slow path refusals, by reason
     "queues": {"stun": {"depth": d, "queued": n, "overflow": n}, "dtls": {...},
                "unknown_source": {...}, "ssrc_learning": {...}},
     "repair": {"nack_cache_hits": n, ...},                    loss repair, by REPAIR name
     "congestion": {"twcc_feedback": n, ...},                  bandwidth estimation, by CONGESTION name
     "transports": {"<transport id>": {"estimate_bps": n, ...}}}  per transport, by TRANSPORT_ESTIMATE name

Every field but "type" may be missing (a worker of an earlier release sends "engine" and "table"
only); a missing one reads as empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.framing import require

STATS = "stats"

TRAFFIC = (
    "datagrams_in",
    "bytes_in",
    "rtp_in",
    "rtcp_in",
    "stun_in",
    "dtls_in",
    "unknown_source_in",
    "packets_out",
    "bytes_out",
    "slow_out",
)
"""The traffic counters: datagrams received (each of them is exactly one of: RTP or RTCP from a
known transport, STUN, DTLS, RTP/RTCP from an unknown address, or a fast-path drop that came before
those were told apart), packets the fast path sent, datagrams the slow path sent (STUN answers,
DTLS records)."""

SLOW_DROPS = ("stun_unknown_ufrag", "dtls_untrusted", "untrusted_media", "media_before_keys", "unhandled")
"""Why the slow path refused a datagram the fast path gave it: STUN naming no transport of ours,
DTLS or RTP/RTCP from an address no transport trusts, media before the transport has its keys, and
anything no handler took."""

QUEUES = ("stun", "dtls", "unknown_source", "ssrc_learning")
"""The slow path's work by kind, queued between the fast path and Python: STUN, DTLS and RTP/RTCP from
addresses no transport owns (the three share one bounded ring of datagrams), and unknown SSRCs to
learn (a ring of their own)."""

REPAIR = (
    "nack_cache_hits",
    "nack_cache_misses",
    "nack_rate_limited",
    "nack_unmapped",
    "nacks_relayed",
    "repairs_sent",
    "rtx_unrequested",
    "rtx_padding",
)
"""Loss repair at the engine: packets subscribers NACKed that were answered from a producer's cache,
missed by it (asked of the publisher), refused by the consumer's NACK rate limit, or outside the
consumer's stream; NACK packets sent to publishers; retransmissions sent to subscribers; publisher
retransmissions nobody awaited (cached, not forwarded); padding-only packets publishers sent on their
RTX streams, their bandwidth probes (ended at the engine, not drops)."""

CONGESTION = ("twcc_seq_written", "twcc_feedback", "twcc_malformed", "remb_terminated", "rr_terminated")
"""Bandwidth estimation toward subscribers, engine-wide: packets sent with their transport's own
transport-wide sequence number, transport-cc feedback applied to an estimate, feedback dropped as
malformed, REMB and receiver reports read (their transports' fallbacks without transport-cc)."""

TRANSPORT_ESTIMATE = (
    "estimate_bps",
    "pacing_bps",
    "twcc_feedback",
    "twcc_malformed",
    "twcc_packets_lost",
    "remb_in",
    "rr_loss_reports",
)
"""Per transport (the control plane's transport id), what the engine estimates it may carry toward
its peer: `estimate_bps` (bit/s, from transport-cc feedback, else the peer's REMB, bounded by the
loss it reports), the rate its video is paced at (0: unpaced), and the feedback the estimate was
made from."""

MAX_NAMES = 64
"""Names per mapping a report may carry."""

MAX_TRANSPORTS = 4096
"""Transports one report may carry estimates for."""


@dataclass(frozen=True)
class Queue:
    """One bounded queue of the slow path."""

    depth: int = 0
    """Entries waiting when the report was made."""
    queued: int = 0
    """Entries ever queued."""
    overflow: int = 0
    """Entries refused because the queue was full (a datagram's count as the slow_queue_full drop too)."""

    def to_wire(self) -> dict[str, int]:
        return {"depth": self.depth, "queued": self.queued, "overflow": self.overflow}


@dataclass(frozen=True)
class Stats:
    """One stats report."""

    engine: dict[str, Any] = field(default_factory=dict)
    """engine.stats() as the worker's engine gives it: free-form, for people and logs."""
    table: dict[str, int] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    """Counts by TRAFFIC name."""
    drops: dict[str, int] = field(default_factory=dict)
    """Fast-path drops by the engine's reason names (engine._rtp.DROP_NAMES, "none" left out)."""
    slow_drops: dict[str, int] = field(default_factory=dict)
    """Slow-path refusals by SLOW_DROPS name."""
    queues: dict[str, Queue] = field(default_factory=dict)
    """By QUEUES name."""
    repair: dict[str, int] = field(default_factory=dict)
    """Loss repair counts by REPAIR name."""
    congestion: dict[str, int] = field(default_factory=dict)
    """Bandwidth estimation counts by CONGESTION name."""
    transports: dict[str, dict[str, int]] = field(default_factory=dict)
    """Control transport id → its estimate and feedback counts, by TRANSPORT_ESTIMATE name."""

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": STATS,
            "engine": self.engine,
            "table": self.table,
            "traffic": self.traffic,
            "drops": self.drops,
            "slow_drops": self.slow_drops,
            "queues": {name: queue.to_wire() for name, queue in self.queues.items()},
            "repair": self.repair,
            "congestion": self.congestion,
            "transports": self.transports,
        }


def _counts(value: object, what: str) -> dict[str, int]:
    """A JSON object of at most MAX_NAMES non-negative integers; missing: empty."""
    if value is None:
        return {}
    require(isinstance(value, dict) and len(value) <= MAX_NAMES, f"stats {what} must be an object")
    assert isinstance(value, dict)
    out: dict[str, int] = {}
    for name, count in value.items():
        require(isinstance(name, str) and 0 < len(name) <= 64, f"stats {what} has a bad name")
        require(type(count) is int and count >= 0, f"stats {what}.{name} must be a non-negative integer")
        out[name] = count
    return out


def _queue(value: object, name: str) -> Queue:
    counts = _counts(value, f"queues.{name}")
    return Queue(counts.get("depth", 0), counts.get("queued", 0), counts.get("overflow", 0))


def _transports(value: object) -> dict[str, dict[str, int]]:
    if value is None:
        return {}
    require(isinstance(value, dict) and len(value) <= MAX_TRANSPORTS, "stats transports must be an object")
    assert isinstance(value, dict)
    out: dict[str, dict[str, int]] = {}
    for tid, counts in value.items():
        require(isinstance(tid, str) and 0 < len(tid) <= 256, "stats transports has a bad transport id")
        out[tid] = _counts(counts, f"transports.{tid}")
    return out


def parse_stats(message: dict[str, Any]) -> Stats:
    """A {"type": "stats"} frame; ProtocolError when a field has the wrong shape."""
    require(message.get("type") == STATS, "expected a stats frame")
    engine = message.get("engine", {})
    require(isinstance(engine, dict), "stats without an engine object")
    queues = message.get("queues")
    queues = {} if queues is None else queues
    require(isinstance(queues, dict) and len(queues) <= MAX_NAMES, "stats queues must be an object")
    assert isinstance(engine, dict) and isinstance(queues, dict)
    return Stats(
        engine=engine,
        table=_counts(message.get("table"), "table"),
        traffic=_counts(message.get("traffic"), "traffic"),
        drops=_counts(message.get("drops"), "drops"),
        slow_drops=_counts(message.get("slow_drops"), "slow_drops"),
        queues={str(name): _queue(value, str(name)) for name, value in queues.items()},
        repair=_counts(message.get("repair"), "repair"),
        congestion=_counts(message.get("congestion"), "congestion"),
        transports=_transports(message.get("transports")),
    )
