"""The engine workers' counters for `GET /metrics`: what each worker last reported, kept per worker,
and the collector that turns it and the registry's own counts into Prometheus series.

`WorkerStats` listens to the registry (`registry.add_listener(stats.on_event)`): it keeps each
worker's last report (`contract.stats`) and whether the worker is connected, disconnected (within
its grace period) or lost. A lost worker keeps its series, frozen at its last report and marked
lost, so that it does not vanish while meetings still name it; the `LOST_KEPT` most recently lost
are kept, and a worker that comes back is connected again.

Series (all per `worker`; counters are the worker's since it started):

    podium_engine_workers{state}                      gauge   connected / disconnected / restarting / lost
    podium_engine_worker_state{worker,state}          gauge   1 for the worker's state, 0 for the others
    podium_engine_datagrams_received_total            counter every datagram read from the socket
    podium_engine_bytes_received_total                counter
    podium_engine_packets_received_total{kind}        counter rtp, rtcp (known transport, authenticated),
                                                              stun, dtls, unknown_source (RTP/RTCP, unknown address)
    podium_engine_datagrams_sent_total{path}          counter fast (RTP/RTCP forwarded or generated), slow (STUN, DTLS)
    podium_engine_bytes_sent_total                    counter fast path
    podium_engine_drops_total{reason}                 counter fast-path drops by engine reason (engine DROP_NAMES)
    podium_engine_slow_path_drops_total{reason}       counter slow-path refusals (contract.stats.SLOW_DROPS)
    podium_engine_srtp_failures_total                 counter SRTP/SRTCP refused by libsrtp (the srtp_auth drops)
    podium_engine_header_extensions_total{outcome}    counter copies with extensions rewritten per consumer
                                                              (rewritten), elements not forwarded (unmapped,
                                                              oversize), foreign blocks not forwarded (foreign)
    podium_engine_gso_messages_total{result}          counter UDP GSO messages (engine/gso.pxi): sent, refused
                                                              (sent again one datagram at a time)
    podium_engine_gso_datagrams_total                 counter datagrams those sent messages carried
    podium_engine_paced_packets_total{outcome}        counter video held by a transport's pacer (held), sent
                                                              later (released), early past the queue's bound (early)
    podium_engine_probes_total{outcome}               counter bandwidth probes toward subscribers (engine/probe.pxi):
                                                              started, raised (the estimate), unavailable
                                                              (no transport-cc or no consumer with RTX)
    podium_engine_probe_bytes_total                   counter padding bytes the probes sent
    podium_engine_slow_queue_depth{queue}             gauge   entries waiting at the report, by kind: stun,
                                                              dtls, unknown_source (one shared ring), ssrc_learning
    podium_engine_slow_queued_total{queue}            counter
    podium_engine_slow_queue_overflow_total{queue}    counter refused: the queue was full
    podium_engine_nacked_packets_total{result}        counter packets subscribers NACKed: cache_hit, cache_miss
                                                              (asked of the publisher), rate_limited, unmapped
    podium_engine_nacks_relayed_total                 counter NACK packets sent to publishers
    podium_engine_repairs_sent_total                  counter retransmissions sent to subscribers
    podium_engine_rtx_unrequested_total               counter publisher RTX nobody awaited (cached only)
    podium_engine_rtx_padding_total                   counter padding-only packets on publishers' RTX streams
                                                              (their bandwidth probes): ended, not drops
    podium_engine_transport_cc_numbered_total         counter packets sent with their subscriber transport's
                                                              own transport-wide sequence number
    podium_engine_congestion_feedback_total{kind}     counter what subscribers said of their links:
                                                              twcc (applied), twcc_malformed (dropped),
                                                              remb, receiver_report
    podium_engine_stats_reports_total                 counter reports received by this control plane
    podium_engine_stats_timestamp_seconds             gauge   when the last one came (Unix time)
    podium_engine_objects{type}                       gauge   routers, transports, producers, consumers
                                                              in the desired table
    podium_engine_table_version                       gauge   last version the worker acked
    podium_engine_pending_batches                     gauge   batches awaiting its ack
    podium_engine_apply_seconds                       histogram  table change → ack
    podium_engine_{resyncs,op_errors,auth_failures,malformed_frames}_total   counters of the registry
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from contract.stats import QUEUES, Stats
from control.engines.events import (
    LIFECYCLE,
    RegistryEvent,
    StatsReported,
    WorkerConnected,
    WorkerDisconnected,
    WorkerLost,
)

if TYPE_CHECKING:
    from control.engines.registry import EngineRegistry

CONNECTED, DISCONNECTED, LOST = "connected", "disconnected", "lost"
STATES = LIFECYCLE
LOST_KEPT = 64
"""Lost workers whose series are kept (the most recently lost)."""

PACKET_KINDS = {"rtp": "rtp_in", "rtcp": "rtcp_in", "stun": "stun_in", "dtls": "dtls_in"}
PACKET_KINDS["unknown_source"] = "unknown_source_in"
NACK_RESULTS = {
    "cache_hit": "nack_cache_hits",
    "cache_miss": "nack_cache_misses",
    "rate_limited": "nack_rate_limited",
    "unmapped": "nack_unmapped",
}


CONGESTION_FEEDBACK = {
    "twcc": "twcc_feedback",
    "twcc_malformed": "twcc_malformed",
    "remb": "remb_terminated",
    "receiver_report": "rr_terminated",
}
"""podium_engine_congestion_feedback_total's kinds → contract.stats.CONGESTION names."""

EXTENSION_OUTCOMES = ("rewritten", "unmapped", "oversize", "foreign")
GSO_RESULTS = {"sent": "gso_sends", "refused": "gso_fallbacks"}
"""The GSO message counters of the engine's report, by result (engine/gso.pxi)."""
PACING_OUTCOMES = {"held": "paced_held", "released": "paced_released", "early": "pace_early"}
"""The pacing counters of the engine's report, by outcome (engine/pace.pxi)."""
PROBE_OUTCOMES = {"started": "probes_started", "raised": "probes_raised", "unavailable": "probe_unavailable"}
"""The bandwidth probe counters of the engine's report, by outcome (engine/probe.pxi)."""
"""The header extension counters of the engine's report (`ext_<outcome>`, engine/extensions.pxi)."""


@dataclass
class Seen:
    """One worker as its reports and the registry's events left it."""

    state: str = CONNECTED
    stats: Stats | None = None
    reports: int = 0
    received: float = 0.0
    """Unix time of the last report."""
    lost_at: float = 0.0


class WorkerStats:
    """The last report of every worker, and its state."""

    def __init__(self, *, clock: Callable[[], float] = time.time, keep_lost: int = LOST_KEPT) -> None:
        self.clock = clock
        self.keep_lost = keep_lost
        self.workers: dict[str, Seen] = {}

    def on_event(self, event: RegistryEvent) -> None:
        """The registry's listener."""
        if isinstance(event, StatsReported):
            seen = self.workers.setdefault(event.worker_id, Seen())
            seen.stats, seen.received = event.stats, self.clock()
            seen.reports += 1
        elif isinstance(event, WorkerConnected):
            self.workers.setdefault(event.worker_id, Seen()).state = CONNECTED
        elif isinstance(event, WorkerDisconnected):
            self.workers.setdefault(event.worker_id, Seen()).state = DISCONNECTED
        elif isinstance(event, WorkerLost):
            seen = self.workers.setdefault(event.worker_id, Seen())
            seen.state, seen.lost_at = LOST, self.clock()
            lost = sorted((s.lost_at, wid) for wid, s in self.workers.items() if s.state == LOST)
            for _, wid in lost[: max(0, len(lost) - self.keep_lost)]:
                del self.workers[wid]

    def get(self, worker_id: str) -> Seen | None:
        return self.workers.get(worker_id)

    def transport_estimate(self, transport_id: str) -> dict[str, int] | None:
        """The engine's last reported bandwidth estimate toward the peer of `transport_id` (its
        `estimate_bps`, `pacing_bps` and feedback counts, contract.stats.TRANSPORT_ESTIMATE), from
        the report of a worker that is not lost; None when none reported it."""
        for seen in self.workers.values():
            if seen.state != LOST and seen.stats is not None and transport_id in seen.stats.transports:
                return seen.stats.transports[transport_id]
        return None


class EngineCollector:
    """A prometheus_client collector over the registry and the workers' reports, read at scrape."""

    def __init__(self, registry: EngineRegistry, stats: WorkerStats) -> None:
        self.registry = registry
        self.stats = stats

    def states(self) -> dict[str, str]:
        """worker id → its lifecycle state (`LIFECYCLE`) as the registry knows it, gone workers too;
        workers whose reports are kept after the registry forgot them stay lost."""
        states = {worker_id: LOST for worker_id, seen in self.stats.workers.items() if seen.state == LOST}
        states.update(self.registry.lifecycle())
        return states

    def collect(self) -> Iterator[Metric]:
        states = self.states()
        workers = GaugeMetricFamily("podium_engine_workers", "Engine workers by state.", labels=["state"])
        for state in STATES:
            workers.add_metric([state], sum(1 for s in states.values() if s == state))
        yield workers
        state_set = GaugeMetricFamily(
            "podium_engine_worker_state",
            "1 for each worker's state (connected, disconnected within its grace period, restarting, lost), "
            "0 for the others.",
            labels=["worker", "state"],
        )
        for worker_id, current in sorted(states.items()):
            for state in STATES:
                state_set.add_metric([worker_id, state], 1 if state == current else 0)
        yield state_set
        yield from self._reported(states)
        yield from self._registry()

    def _reported(self, states: dict[str, str]) -> Iterator[Metric]:
        w = ["worker"]
        datagrams_in = CounterMetricFamily(
            "podium_engine_datagrams_received", "Datagrams the worker read from its UDP socket.", labels=w
        )
        bytes_in = CounterMetricFamily("podium_engine_bytes_received", "Bytes of those datagrams.", labels=w)
        packets_in = CounterMetricFamily(
            "podium_engine_packets_received",
            "Received by kind: rtp and rtcp from a known transport (authenticated), stun, dtls, and "
            "unknown_source (RTP/RTCP from an address no transport owns, given to the slow path).",
            labels=[*w, "kind"],
        )
        datagrams_out = CounterMetricFamily(
            "podium_engine_datagrams_sent",
            "Datagrams sent: fast (RTP/RTCP forwarded or generated), slow (STUN answers, DTLS records).",
            labels=[*w, "path"],
        )
        bytes_out = CounterMetricFamily("podium_engine_bytes_sent", "Bytes the fast path sent.", labels=w)
        drops = CounterMetricFamily(
            "podium_engine_drops", "Datagrams the fast path dropped, by engine drop reason.", labels=[*w, "reason"]
        )
        slow_drops = CounterMetricFamily(
            "podium_engine_slow_path_drops",
            "Datagrams the slow path refused: stun_unknown_ufrag, dtls_untrusted, untrusted_media, "
            "media_before_keys, unhandled.",
            labels=[*w, "reason"],
        )
        srtp = CounterMetricFamily(
            "podium_engine_srtp_failures",
            "SRTP/SRTCP packets libsrtp refused (forged, tampered, replayed, malformed): the srtp_auth drops.",
            labels=w,
        )
        extensions = CounterMetricFamily(
            "podium_engine_header_extensions",
            "Header extensions rewritten per consumer: copies rewritten, and what was not forwarded (elements "
            "of ids the publisher's transport was not told: unmapped; empty or over 16 bytes: oversize; blocks "
            "of a profile other than RFC 8285's: foreign).",
            labels=[*w, "outcome"],
        )
        gso = CounterMetricFamily(
            "podium_engine_gso_messages",
            "UDP GSO messages (a subscriber's run of equal-size datagrams in one send): sent, or refused by "
            "the kernel and sent again one datagram at a time.",
            labels=[*w, "result"],
        )
        gso_datagrams = CounterMetricFamily(
            "podium_engine_gso_datagrams", "Datagrams the sent UDP GSO messages carried.", labels=w
        )
        paced = CounterMetricFamily(
            "podium_engine_paced_packets",
            "Video packets a transport's pacer held (held), sent on a later tick (released), or sent "
            "ahead of its rate because its queue was past its bound (early).",
            labels=[*w, "outcome"],
        )
        probes = CounterMetricFamily(
            "podium_engine_probes",
            "Bandwidth probes toward subscribers: started, raised (their transport's estimate), or "
            "unavailable (no transport-cc, or no consumer with RTX to carry the padding).",
            labels=[*w, "outcome"],
        )
        probe_bytes = CounterMetricFamily(
            "podium_engine_probe_bytes", "Padding bytes the bandwidth probes sent to subscribers.", labels=w
        )
        depth = GaugeMetricFamily(
            "podium_engine_slow_queue_depth",
            "Entries waiting for the slow path when the worker reported, by kind: stun, dtls, unknown_source "
            "(the three share one ring of datagrams), ssrc_learning.",
            labels=[*w, "queue"],
        )
        queued = CounterMetricFamily(
            "podium_engine_slow_queued", "Entries put in a slow-path queue.", labels=[*w, "queue"]
        )
        overflow = CounterMetricFamily(
            "podium_engine_slow_queue_overflow",
            "Entries refused because the slow-path queue was full, by kind.",
            labels=[*w, "queue"],
        )
        nacked = CounterMetricFamily(
            "podium_engine_nacked_packets",
            "Packets subscribers NACKed, by result: cache_hit (sent again from the producer's cache), "
            "cache_miss (asked of the publisher), rate_limited, unmapped (not in the consumer's stream).",
            labels=[*w, "result"],
        )
        relayed = CounterMetricFamily(
            "podium_engine_nacks_relayed", "NACK packets sent to publishers (what the cache missed).", labels=w
        )
        repairs = CounterMetricFamily(
            "podium_engine_repairs_sent", "Retransmissions sent to subscribers (cache or publisher RTX).", labels=w
        )
        unrequested = CounterMetricFamily(
            "podium_engine_rtx_unrequested",
            "Publisher retransmissions no subscriber awaited: cached, not forwarded.",
            labels=w,
        )
        padding = CounterMetricFamily(
            "podium_engine_rtx_padding",
            "Padding-only packets on publishers' RTX streams (their bandwidth probes): ended here, not drops.",
            labels=w,
        )
        numbered = CounterMetricFamily(
            "podium_engine_transport_cc_numbered",
            "Packets sent with their subscriber transport's own transport-wide sequence number.",
            labels=w,
        )
        congestion = CounterMetricFamily(
            "podium_engine_congestion_feedback",
            "Feedback subscribers sent about their links, by kind: twcc (transport-cc applied to an estimate), "
            "twcc_malformed (dropped), remb, receiver_report.",
            labels=[*w, "kind"],
        )
        reports = CounterMetricFamily(
            "podium_engine_stats_reports", "Stats reports received from the worker by this control plane.", labels=w
        )
        received = GaugeMetricFamily(
            "podium_engine_stats_timestamp_seconds", "When the worker's last stats report came (Unix time).", labels=w
        )
        for worker_id in sorted(states):
            seen = self.stats.get(worker_id)
            if seen is None or seen.stats is None:
                continue
            report, labels = seen.stats, [worker_id]
            traffic = report.traffic
            datagrams_in.add_metric(labels, traffic.get("datagrams_in", 0))
            bytes_in.add_metric(labels, traffic.get("bytes_in", 0))
            for kind, name in PACKET_KINDS.items():
                packets_in.add_metric([worker_id, kind], traffic.get(name, 0))
            datagrams_out.add_metric([worker_id, "fast"], traffic.get("packets_out", 0))
            datagrams_out.add_metric([worker_id, "slow"], traffic.get("slow_out", 0))
            bytes_out.add_metric(labels, traffic.get("bytes_out", 0))
            for reason, count in sorted(report.drops.items()):
                drops.add_metric([worker_id, reason], count)
            for reason, count in sorted(report.slow_drops.items()):
                slow_drops.add_metric([worker_id, reason], count)
            srtp.add_metric(labels, report.drops.get("srtp_auth", 0))
            for outcome in EXTENSION_OUTCOMES:
                count = report.engine.get(f"ext_{outcome}", 0)
                extensions.add_metric([worker_id, outcome], count if isinstance(count, int) else 0)
            for result, name in GSO_RESULTS.items():
                gso.add_metric([worker_id, result], _count(report.engine.get(name)))
            gso_datagrams.add_metric(labels, _count(report.engine.get("gso_datagrams")))
            for outcome, name in PACING_OUTCOMES.items():
                paced.add_metric([worker_id, outcome], _count(report.engine.get(name)))
            for outcome, name in PROBE_OUTCOMES.items():
                probes.add_metric([worker_id, outcome], _count(report.engine.get(name)))
            probe_bytes.add_metric(labels, _count(report.engine.get("probe_bytes")))
            for name in sorted(set(QUEUES) | set(report.queues)):
                queue = report.queues.get(name)
                if queue is None:
                    continue
                depth.add_metric([worker_id, name], queue.depth)
                queued.add_metric([worker_id, name], queue.queued)
                overflow.add_metric([worker_id, name], queue.overflow)
            repair = report.repair
            for result, name in NACK_RESULTS.items():
                nacked.add_metric([worker_id, result], repair.get(name, 0))
            relayed.add_metric(labels, repair.get("nacks_relayed", 0))
            repairs.add_metric(labels, repair.get("repairs_sent", 0))
            unrequested.add_metric(labels, repair.get("rtx_unrequested", 0))
            padding.add_metric(labels, repair.get("rtx_padding", 0))
            numbered.add_metric(labels, report.congestion.get("twcc_seq_written", 0))
            for kind, name in CONGESTION_FEEDBACK.items():
                congestion.add_metric([worker_id, kind], report.congestion.get(name, 0))
            reports.add_metric(labels, seen.reports)
            received.add_metric(labels, seen.received)
        yield from (datagrams_in, bytes_in, packets_in, datagrams_out, bytes_out, drops, slow_drops, srtp, extensions)
        yield from (gso, gso_datagrams, paced, probes, probe_bytes)
        yield from (depth, queued, overflow, nacked, relayed, repairs, unrequested, padding, numbered, congestion)
        yield from (reports, received)

    def _registry(self) -> Iterator[Metric]:
        registry = self.registry
        infos = registry.workers()
        objects = GaugeMetricFamily(
            "podium_engine_objects", "Objects in each worker's desired table.", labels=["worker", "type"]
        )
        version = GaugeMetricFamily(
            "podium_engine_table_version", "Last table version each worker acked.", labels=["worker"]
        )
        pending = GaugeMetricFamily(
            "podium_engine_pending_batches", "Batches awaiting a worker's ack.", labels=["worker"]
        )
        batches = registry.pending_batches()
        for info in infos:
            for kind, count in sorted(info.counts.items()):
                objects.add_metric([info.worker_id, kind], count)
            version.add_metric([info.worker_id], info.version)
            pending.add_metric([info.worker_id], batches.get(info.worker_id, 0))
        yield from (objects, version, pending)
        yield from registry.apply_latency.collect()
        for name, help_text, value in (
            ("podium_engine_resyncs", "Whole tables sent to workers.", registry.resyncs),
            ("podium_engine_op_errors", "Operations workers refused.", registry.op_errors),
            (
                "podium_engine_auth_failures",
                "Engine channel connections refused for a bad secret.",
                registry.auth_failures,
            ),
            (
                "podium_engine_malformed_frames",
                "Malformed frames received on engine channels.",
                registry.malformed_frames,
            ),
        ):
            yield CounterMetricFamily(name, help_text, value=value)


def _count(value: object) -> int:
    """A counter of the engine's free-form report: an int, else 0 (a worker of an earlier release)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
