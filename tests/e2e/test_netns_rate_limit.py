"""The harness's bottleneck (netns.rate_limit) measured with UDP offered at 3 Mbit/s (link_probe):
about the cap gets through while it holds, everything once it is lifted, and nothing of it is left
behind when the block it guards fails. Both ways of capping: tc's token bucket, and the nftables
rule used where the kernel lacks tbf."""

from __future__ import annotations

import subprocess

import pytest
from link_probe import received_kbit
from netns import Namespace, namespace, rate_limit

pytestmark = pytest.mark.timeout(60)

CAP_KBIT = 300


@pytest.fixture(scope="module")
def far():
    with namespace() as ns:
        yield ns


def left_behind(ns: Namespace) -> str:
    """The cap's traces: a root qdisc other than the default on this side's end, an nftables table in
    the namespace."""
    qdisc = subprocess.run(["tc", "qdisc", "show", "dev", ns.host_device], capture_output=True, text=True).stdout
    tables = subprocess.run([*ns.exec, "nft", "list", "tables"], capture_output=True, text=True).stdout
    return "".join(line for line in (qdisc + tables).splitlines() if "tbf" in line or "podium_cap" in line)


@pytest.mark.parametrize("how", ["tbf", "nftables"])
def test_the_cap_holds_and_lifts(far: Namespace, how: str) -> None:
    assert received_kbit(far) > 5 * CAP_KBIT
    with rate_limit(far, CAP_KBIT, how=how) as cap:
        assert cap.how == how  # this kernel has tbf
        capped = received_kbit(far, window=3.0)
        # tbf holds the rate; nftables lets up to 1.3 times it through under this overload
        assert 0.5 * CAP_KBIT < capped < 1.5 * CAP_KBIT, f"{capped:.0f} kbit/s through {how}"
        cap.lift()
        assert not left_behind(far)
        assert received_kbit(far) > 5 * CAP_KBIT
    assert not left_behind(far)


def test_the_cap_goes_when_the_block_fails(far: Namespace) -> None:
    with pytest.raises(RuntimeError), rate_limit(far, CAP_KBIT):
        assert "tbf" in left_behind(far)
        raise RuntimeError("the test failed")
    assert not left_behind(far)
    assert received_kbit(far) > 5 * CAP_KBIT
