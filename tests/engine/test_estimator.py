"""The bandwidth estimator of a subscriber transport (engine/estimator.pxi) on a simulated link
(bench/link_model.py): a sender paced at the estimate, a bottleneck queue, transport-cc feedback the
engine's parser reads. The estimate settles near the link's capacity, falls when the link narrows,
rises again when it widens, and falls with loss; REMB and receiver-report loss stand in without
transport-cc. Deterministic: a simulated clock, no timing of the machine."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.link_model import Bottleneck, LinkRun, converge_time_us
from engine import _testing
from engine.rtp.twcc import serialize_twcc

S = 1_000_000


def test_a_300_kbit_link_is_found_and_a_step_to_2_mbit_rises_again() -> None:
    link = Bottleneck(300_000)
    run = LinkRun(link)
    run.run(30 * S)
    settled = run.mean_estimate(run.now_us - 10 * S)
    assert 0.7 * 300_000 <= settled <= 1.25 * 300_000
    assert run.estimator.stats()["overuses"] >= 1
    link.capacity_bps = 2_000_000
    start = run.now_us
    run.run(40 * S)
    assert converge_time_us(run.samples, start, 0.75 * 2_000_000, float("inf")) is not None
    assert 0.7 * 2_000_000 <= run.mean_estimate(run.now_us - 10 * S) <= 1.25 * 2_000_000
    # and down again: the queue grows, the detector signals overuse, the rate follows the link
    link.capacity_bps = 300_000
    start = run.now_us
    run.run(10 * S)
    took = converge_time_us(run.samples, start, 0, 1.25 * 300_000)
    assert took is not None and took < 5 * S


def test_loss_lowers_the_estimate() -> None:
    clean = LinkRun(Bottleneck(2_000_000))
    clean.run(40 * S)
    lossy = LinkRun(Bottleneck(2_000_000, loss=0.2, seed=7))
    lossy.run(40 * S)
    stats = lossy.estimator.stats()
    assert stats["packets_lost"] > 0.1 * stats["packets_acked"]
    assert lossy.mean_estimate(lossy.now_us - 10 * S) < 0.7 * clean.mean_estimate(clean.now_us - 10 * S)


def test_feedback_about_packets_never_sent_or_malformed_changes_nothing() -> None:
    estimator = _testing.TwccEstimator()
    before = estimator.stats()
    assert estimator.feedback(serialize_twcc(500, [1000, 2000, 3000]), 10 * S)  # nothing was sent
    assert estimator.stats()["unknown_seq"] == 3 and estimator.estimate_bps == before["estimate_bps"]
    assert not estimator.feedback(b"\x00\x01\x00\x00\x00\x00\x00\x00", 10 * S)  # status count 0
    assert estimator.stats()["malformed"] == 1


def test_without_transport_cc_remb_and_receiver_reports_lead() -> None:
    estimator = _testing.TwccEstimator()
    estimator.remb(400_000, 1 * S)
    assert estimator.estimate_bps == 400_000
    estimator.remb(3_000_000, 2 * S)
    assert estimator.estimate_bps == 3_000_000  # no transport-cc: the REMB is the rate itself
    estimator.receiver_loss(77, 3 * S)  # 30 % lost
    assert estimator.estimate_bps == int(3_000_000 * (1 - 0.5 * 77 / 256))
    assert estimator.stats()["rr_loss_reports"] == 1


def test_with_fresh_transport_cc_a_remb_is_only_a_ceiling_and_rr_loss_is_not_counted_twice() -> None:
    run = LinkRun(Bottleneck(1_000_000))
    run.run(20 * S)
    estimate = run.estimator.estimate_bps
    run.estimator.remb(50_000_000, run.now_us)
    assert run.estimator.estimate_bps == estimate
    run.estimator.remb(200_000, run.now_us)
    assert run.estimator.estimate_bps == 200_000
    run.estimator.receiver_loss(128, run.now_us)
    assert run.estimator.stats()["rr_loss_reports"] == 0


events = st.lists(
    st.one_of(
        st.tuples(st.just("sent"), st.integers(0, 1500), st.integers(0, 50_000)),
        st.tuples(
            st.just("feedback"),
            st.lists(st.one_of(st.none(), st.integers(-3_000_000, 3_000_000)), min_size=1, max_size=40),
            st.integers(0, 200_000),
        ),
        st.tuples(st.just("raw"), st.binary(max_size=80), st.integers(0, 200_000)),
        st.tuples(st.just("remb"), st.integers(0, 2**64 - 1), st.integers(0, 3_000_000)),
        st.tuples(st.just("rr"), st.integers(0, 255), st.integers(0, 3_000_000)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(events, st.integers(0, 0xFFFF))
def test_any_feedback_keeps_the_estimate_a_bounded_number(script, first_seq: int) -> None:
    """Random sends, feedback (arrival times in any order, lost packets, bytes that are no feedback),
    REMB and RR loss, at any pace: the estimate stays within its bounds and the counts add up."""
    estimator = _testing.TwccEstimator(first_seq)
    now, sent = S, []
    for kind, value, step in script:
        now += step
        if kind == "sent":
            sent.append(estimator.sent(value, now))
        elif kind == "feedback":
            base = sent[0] if sent else first_seq
            estimator.feedback(serialize_twcc(base, [None if v is None else now + v for v in value]), now)
        elif kind == "raw":
            estimator.feedback(value, now)
        elif kind == "remb":
            estimator.remb(value, now)
        else:
            estimator.receiver_loss(value, now)
        stats = estimator.stats()
        assert 50_000 <= stats["estimate_bps"] <= 50_000_000
        assert 50_000 <= stats["delay_bps"] <= 50_000_000 and 50_000 <= stats["loss_bps"] <= 50_000_000
        assert stats["threshold_ms"] == stats["threshold_ms"]  # not NaN
        assert 6.0 <= stats["threshold_ms"] <= 600.0
