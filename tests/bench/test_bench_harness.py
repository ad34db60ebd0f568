"""The forwarding benchmarks' shared bookkeeping (bench/harness.py): each round's figures are kept
with its round number, and a ratio per round pairs the rows measured in the same round."""

from bench.harness import median, median_row, paired_ratio, paired_ratios


def row(pps: float, cpu: float) -> dict:
    return {"output_pps": pps, "cpu_ns_per_packet": cpu, "forwarder_cpu_percent": 50.0}


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([]) is None


def test_median_row_keeps_every_good_round_by_its_number() -> None:
    rounds = [row(100, 10), {"error": "sink exited"}, row(300, 30), row(200, 20)]
    picked = median_row(rounds)
    assert picked["output_pps"] == 200  # the median round's figures
    assert picked["rounds_output_pps"] == [100, 300, 200]
    assert [(r["round"], r["output_pps"]) for r in picked["rounds"]] == [(0, 100), (2, 300), (3, 200)]
    assert picked["failed_rounds"] == ["sink exited"]


def test_ratios_pair_rows_of_the_same_round() -> None:
    # a's pps over b's per round: a round that failed for either is left out, not paired with another
    a = median_row([row(100, 10), row(400, 40), {"error": "x"}, row(90, 9)])
    b = median_row([row(50, 20), {"error": "y"}, row(80, 10), row(100, 30)])
    assert paired_ratios(a, b) == [2.0, 0.9]
    assert paired_ratio(a, b) == (2.0 + 0.9) / 2
    # a cost: b's CPU per packet over a's, the pps ratio if each had the CPU to itself
    assert paired_ratios(a, b, "cpu_ns_per_packet", inverse=True) == [2.0, 30 / 9]
    # not the ratio of the median rows (a's median round is 100 pps, b's 80): pairing is the point
    assert paired_ratio(a, b) != a["output_pps"] / b["output_pps"]


def test_no_common_round_gives_no_ratio() -> None:
    a = median_row([row(100, 10), {"error": "x"}])
    b = median_row([{"error": "y"}, row(100, 10)])
    assert paired_ratios(a, b) == []
    assert paired_ratio(a, b) is None
