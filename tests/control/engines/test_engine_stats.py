"""The engine series of GET /metrics: each worker's last report, per worker, and a lost worker that
keeps its series, marked lost, instead of vanishing."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from contract.stats import Queue, Stats
from control.engines import EngineRegistry, WorkerDisconnected, WorkerLost
from control.engines.events import StatsReported, WorkerConnected
from control.engines.stats import EngineCollector, WorkerStats
from control.metrics import Metrics


def report(n: int) -> Stats:
    return Stats(
        traffic={"datagrams_in": 10 * n, "rtp_in": 6 * n, "stun_in": n, "packets_out": 5 * n, "slow_out": n},
        drops={"unknown_kind": n, "srtp_auth": 2 * n, "slow_queue_full": 0},
        slow_drops={"untrusted_media": 3 * n},
        queues={"stun": Queue(0, 4 * n, 0), "ssrc_learning": Queue(1, n, 0)},
        engine={
            "ext_rewritten": 7 * n,
            "ext_unmapped": n,
            "ext_foreign": "?",
            "gso_sends": 3 * n,
            "gso_datagrams": 90 * n,
            "gso_fallbacks": True,
            "paced_held": 5 * n,
            "paced_released": 4 * n,
            "pace_early": n,
            "probes_started": 3 * n,
            "probes_raised": n,
            "probe_bytes": 2750 * n,
        },
        repair={
            "nack_cache_hits": 7 * n,
            "nack_cache_misses": n,
            "nacks_relayed": n,
            "repairs_sent": 8 * n,
            "rtx_padding": 5 * n,
        },
        congestion={"twcc_seq_written": 9 * n, "twcc_feedback": 3 * n, "twcc_malformed": n, "remb_terminated": n},
        transports={"t1": {"estimate_bps": 100_000 * n, "pacing_bps": 100_000 * n}},
    )


def scrape(registry: EngineRegistry, stats: WorkerStats) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    metrics = Metrics()
    metrics.add(EngineCollector(registry, stats))
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }


def test_a_lost_worker_keeps_its_series_marked_lost() -> None:
    registry, stats = EngineRegistry("secret"), WorkerStats(clock=lambda: 1000.0)
    for event in (
        WorkerConnected("w1", True, False),
        StatsReported("w1", report(1)),
        StatsReported("w1", report(2)),
        WorkerDisconnected("w1"),
        WorkerLost("w1", ["r1"], ["t1"]),
    ):
        stats.on_event(event)
    series = scrape(registry, stats)
    w1 = (("worker", "w1"),)
    assert series[("podium_engine_workers", (("state", "lost"),))] == 1
    assert series[("podium_engine_workers", (("state", "connected"),))] == 0
    assert series[("podium_engine_worker_state", (("state", "lost"), ("worker", "w1")))] == 1
    assert series[("podium_engine_worker_state", (("state", "connected"), ("worker", "w1")))] == 0
    assert series[("podium_engine_datagrams_received_total", w1)] == 20
    assert series[("podium_engine_packets_received_total", (("kind", "rtp"), ("worker", "w1")))] == 12
    assert series[("podium_engine_datagrams_sent_total", (("path", "fast"), ("worker", "w1")))] == 10
    assert series[("podium_engine_datagrams_sent_total", (("path", "slow"), ("worker", "w1")))] == 2
    assert series[("podium_engine_drops_total", (("reason", "srtp_auth"), ("worker", "w1")))] == 4
    assert series[("podium_engine_slow_path_drops_total", (("reason", "untrusted_media"), ("worker", "w1")))] == 6
    assert series[("podium_engine_srtp_failures_total", w1)] == 4
    outcome = "podium_engine_header_extensions_total"
    assert series[(outcome, (("outcome", "rewritten"), ("worker", "w1")))] == 14
    assert series[(outcome, (("outcome", "unmapped"), ("worker", "w1")))] == 2
    assert series[(outcome, (("outcome", "oversize"), ("worker", "w1")))] == 0
    assert series[(outcome, (("outcome", "foreign"), ("worker", "w1")))] == 0  # not a count: read as none
    gso = "podium_engine_gso_messages_total"
    assert series[(gso, (("result", "sent"), ("worker", "w1")))] == 6
    assert series[(gso, (("result", "refused"), ("worker", "w1")))] == 0  # not a count: read as none
    assert series[("podium_engine_gso_datagrams_total", w1)] == 180
    paced = "podium_engine_paced_packets_total"
    assert series[(paced, (("outcome", "held"), ("worker", "w1")))] == 10
    assert series[(paced, (("outcome", "released"), ("worker", "w1")))] == 8
    assert series[(paced, (("outcome", "early"), ("worker", "w1")))] == 2
    probes = "podium_engine_probes_total"
    assert series[(probes, (("outcome", "started"), ("worker", "w1")))] == 6
    assert series[(probes, (("outcome", "raised"), ("worker", "w1")))] == 2
    assert series[(probes, (("outcome", "unavailable"), ("worker", "w1")))] == 0  # absent: none
    assert series[("podium_engine_probe_bytes_total", w1)] == 5500
    assert series[("podium_engine_slow_queued_total", (("queue", "stun"), ("worker", "w1")))] == 8
    assert series[("podium_engine_slow_queue_depth", (("queue", "ssrc_learning"), ("worker", "w1")))] == 1
    assert series[("podium_engine_nacked_packets_total", (("result", "cache_hit"), ("worker", "w1")))] == 14
    assert series[("podium_engine_nacked_packets_total", (("result", "cache_miss"), ("worker", "w1")))] == 2
    assert series[("podium_engine_nacked_packets_total", (("result", "rate_limited"), ("worker", "w1")))] == 0
    assert series[("podium_engine_nacks_relayed_total", w1)] == 2
    assert series[("podium_engine_repairs_sent_total", w1)] == 16
    assert series[("podium_engine_rtx_padding_total", w1)] == 10
    assert series[("podium_engine_transport_cc_numbered_total", w1)] == 18
    congestion = "podium_engine_congestion_feedback_total"
    assert series[(congestion, (("kind", "twcc"), ("worker", "w1")))] == 6
    assert series[(congestion, (("kind", "twcc_malformed"), ("worker", "w1")))] == 2
    assert series[(congestion, (("kind", "receiver_report"), ("worker", "w1")))] == 0
    assert series[("podium_engine_stats_reports_total", w1)] == 2
    assert series[("podium_engine_stats_timestamp_seconds", w1)] == 1000.0

    # back under the same id: connected again, its new counts (from zero: a restarted worker)
    stats.on_event(WorkerConnected("w1", True, False))
    stats.on_event(StatsReported("w1", report(1)))
    assert ("podium_engine_worker_state", (("state", "lost"), ("worker", "w1"))) not in scrape(registry, stats)


def test_only_the_most_recently_lost_are_kept() -> None:
    now = [0.0]
    registry, stats = EngineRegistry("secret"), WorkerStats(clock=lambda: now[0], keep_lost=2)
    for i in range(4):
        now[0] = float(i)
        stats.on_event(StatsReported(f"w{i}", report(1)))
        stats.on_event(WorkerLost(f"w{i}", [], []))
    series = scrape(registry, stats)
    assert series[("podium_engine_workers", (("state", "lost"),))] == 2
    kept = {dict(labels)["worker"] for name, labels in series if name == "podium_engine_datagrams_received_total"}
    assert kept == {"w2", "w3"}


def test_a_transports_estimate_is_read_from_its_workers_last_report() -> None:
    stats = WorkerStats(clock=lambda: 1000.0)
    stats.on_event(WorkerConnected("w1", True, False))
    assert stats.transport_estimate("t1") is None
    stats.on_event(StatsReported("w1", report(1)))
    stats.on_event(StatsReported("w1", report(3)))
    assert stats.transport_estimate("t1") == {"estimate_bps": 300_000, "pacing_bps": 300_000}
    assert stats.transport_estimate("t2") is None
    stats.on_event(WorkerLost("w1", ["r1"], ["t1"]))
    assert stats.transport_estimate("t1") is None  # a lost worker's last word is no estimate
