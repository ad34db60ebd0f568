"""The worker's stats report: its wire form both ways, and the shapes it refuses."""

from __future__ import annotations

import pytest

from contract.framing import ProtocolError
from contract.stats import Queue, Stats, parse_stats


def report() -> Stats:
    return Stats(
        engine={"version": 3, "webrtc": {"stun": 1}},
        table={"routers": 1, "transports": 2},
        traffic={"datagrams_in": 10, "rtp_in": 7},
        drops={"unknown_kind": 2, "srtp_auth": 1},
        slow_drops={"untrusted_media": 4},
        queues={"stun": Queue(0, 5, 1), "ssrc_learning": Queue(1, 2, 0)},
        repair={"nack_cache_hits": 9, "nacks_relayed": 1},
        congestion={"twcc_feedback": 4, "twcc_malformed": 1},
        transports={"t1": {"estimate_bps": 300_000, "pacing_bps": 300_000, "twcc_feedback": 4}},
    )


def test_round_trip() -> None:
    assert parse_stats(report().to_wire()) == report()


def test_a_report_of_an_earlier_worker_reads_as_empty_counts() -> None:
    stats = parse_stats({"type": "stats", "engine": {"version": 1}, "table": {"routers": 0}})
    assert stats.engine == {"version": 1} and stats.table == {"routers": 0}
    assert stats.traffic == stats.drops == stats.slow_drops == stats.repair == {} and stats.queues == {}
    assert stats.congestion == {} and stats.transports == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("engine", [1], "stats without an engine object"),
        ("drops", {"srtp_auth": -1}, "stats drops.srtp_auth must be a non-negative integer"),
        ("drops", {"srtp_auth": 1.5}, "stats drops.srtp_auth must be a non-negative integer"),
        ("drops", {"srtp_auth": True}, "stats drops.srtp_auth must be a non-negative integer"),
        ("traffic", {"": 1}, "stats traffic has a bad name"),
        ("traffic", {f"n{i}": 1 for i in range(65)}, "stats traffic must be an object"),
        ("queues", [], "stats queues must be an object"),
        ("repair", {"nack_cache_hits": -1}, "stats repair.nack_cache_hits must be a non-negative integer"),
        ("queues", {"stun": {"depth": "x"}}, "stats queues.stun.depth must be a non-negative integer"),
        ("transports", [], "stats transports must be an object"),
        ("transports", {"": {}}, "stats transports has a bad transport id"),
        ("transports", {"t1": {"estimate_bps": -1}}, "stats transports.t1.estimate_bps must be a non-negative"),
        ("congestion", {"twcc_feedback": "x"}, "stats congestion.twcc_feedback must be a non-negative integer"),
    ],
)
def test_refuses_malformed_fields(field: str, value: object, message: str) -> None:
    wire = report().to_wire()
    wire[field] = value
    with pytest.raises(ProtocolError, match=message):
        parse_stats(wire)
