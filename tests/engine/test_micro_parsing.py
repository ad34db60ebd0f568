"""Microbenchmarks of packet parsing (pytest-benchmark). The suite runs with --benchmark-disable, so
each runs once as a test; `pytest tests/engine/test_micro_parsing.py --benchmark-enable` measures.

The baseline for the fast path's views is the pure-Python reference parser on the same datagrams.
"""

import importlib.util
from pathlib import Path

import pytest

from engine import _testing
from engine.rtp import parse_rtcp, parse_rtp

DATA = Path(__file__).parent.parent / "data"
ROUNDS = 100


def _captures():
    spec = importlib.util.spec_from_file_location("make_captures", DATA / "make_captures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read(DATA / "captures.bin")


CAPTURES = _captures()
RTP = [data for kind, _, data in CAPTURES if kind == "rtp"]
RTCP = [data for kind, _, data in CAPTURES if kind == "rtcp"]
MIXED = [data for _, _, data in CAPTURES] + [b"\x00\x01\x00\x00", b"\x16\xfe\xfd", b"\x80"]


@pytest.mark.parametrize("name, datagrams", [("rtp", RTP), ("rtcp", RTCP), ("mixed", MIXED)])
def test_views(benchmark, name, datagrams):
    """classify + rtp_parse (+ one extension lookup) or rtcp_split, without the GIL: ROUNDS passes."""
    rtp_ok, rtcp_parts, dropped = benchmark(_testing.parse_batch, datagrams, ROUNDS)
    benchmark.extra_info["datagrams"] = len(datagrams) * ROUNDS
    if name == "rtp":
        assert (rtp_ok, dropped) == (len(RTP), 0)
    elif name == "rtcp":
        assert rtcp_parts >= len(RTCP) and rtp_ok == dropped == 0
    else:
        assert dropped == 3


def test_reference_rtp(benchmark):
    benchmark(lambda: [parse_rtp(d) for d in RTP])


def test_reference_rtcp(benchmark):
    benchmark(lambda: [parse_rtcp(d) for d in RTCP])


def test_inspect_rtp(benchmark):
    """The test hook, for scale: dominated by building its dict."""
    benchmark(lambda: [_testing.inspect_rtp(d) for d in RTP])
