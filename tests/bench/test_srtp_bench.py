"""The SRTP forwarding benchmark runs end to end (--quick) and writes sane figures, with real
encryption at both ends: a smoke test, not a speed test."""

import json
import struct
import subprocess
import sys
from pathlib import Path

import pylibsrtp
import pytest

from bench import srtp

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_run_writes_figures_and_the_sink_samples_decrypt(tmp_path: Path) -> None:
    out = tmp_path / "srtp_forwarding.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.srtp_forwarding", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("headline: engine SRTP-GCM/C output pps at fan-out 10, 1200 B = "), last

    report = json.loads(out.read_text())
    rows = {row["forwarder"]: row for row in report["results"]}
    assert set(rows) == {"c", "engine", "engine-gcm", "engine-sha80"}
    for name, row in rows.items():
        assert "error" not in row, f"{name}: {row.get('error')}"
        assert (row["fanout"], row["size"]) == (10, 1200)
        assert row["output_pps"] > 0, name
        assert row["cpu_ns_per_packet"] > 0, name
        # every datagram the sink got was a rewritten copy of the expected length: 1200 B, plus the tag for SRTP
        assert row["bad_packets"] == 0, name
    for name in ("engine-gcm", "engine-sha80"):
        check = rows[name]["srtp_check"]
        # the first datagrams of every subscriber socket decrypt under that subscriber's key
        assert check["ok"], (name, check)
        assert check["sockets"] == 10 and check["samples"] == 10 * srtp.SAMPLES_PER_SOCKET, (name, check)
        assert check["decrypted"] == check["plaintext_ok"] == check["samples"], (name, check)
        counters = rows[name]["forwarder_counters"]
        assert counters["publisher"]["drops"]["srtp_auth"] == 0, name  # the generator's SRTP was all valid
        assert counters["consumer0"]["bytes_out"] > 0
    (ratios,) = report["ratios"]
    for key in ("gcm_over_c_pps", "sha80_over_c_pps", "gcm_over_engine_pps", "sha80_over_engine_pps"):
        assert ratios[key] > 0, key
    assert report["headline"]["value"] == ratios["gcm_over_c_pps"]
    assert report["headline"]["target"] == 0.85
    # one round (--quick): the median of the per-round ratios is that round's, the ratio of the rows
    assert ratios["gcm_over_c_pps_rounds"] == [round(ratios["gcm_over_c_pps"], 3)]
    assert ratios["gcm_over_c_pps"] == rows["engine-gcm"]["output_pps"] / rows["c"]["output_pps"]
    assert f"(median of rounds {ratios['gcm_over_c_pps_rounds'][0]:.2f};" in last
    for name, row in rows.items():
        assert [r["round"] for r in row["rounds"]] == [0], name
        assert row["rounds"][0]["output_pps"] == row["output_pps"], name
        if row["other_cpu_percent_on_forwarder_cpu"] is not None:  # pinned: the forwarder's CPU's softirq
            assert row["softirq_ns_per_packet"] >= 0 and row["cpu_irq_ns_per_packet"] >= row["cpu_ns_per_packet"]


def test_samples_under_another_key_do_not_pass(tmp_path: Path) -> None:
    # the check proves encryption: a packet protected under a key that is not the subscriber's fails it
    profile = srtp.GCM
    wrong = pylibsrtp.Session(
        pylibsrtp.Policy(
            key=srtp.key_salt("publisher", 0, profile),
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=profile,
        )
    )
    right = pylibsrtp.Session(
        pylibsrtp.Policy(
            key=srtp.key_salt("subscriber", 0, profile),
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=profile,
        )
    )
    size = 100
    plain = bytes([0x80, 96, 0, 1, 0, 0, 0, 0, 0x50, 0, 0, 1]) + bytes(srtp.payload_byte(j) for j in range(12, size))
    path = tmp_path / "samples"

    def dump(*datagrams: bytes) -> Path:
        path.write_bytes(b"".join(struct.pack(">HH", 0, len(d)) + d for d in datagrams))  # socket 0
        return path

    assert srtp.check_samples(dump(right.protect(plain)), profile, size)["ok"]
    bad = srtp.check_samples(dump(wrong.protect(plain)), profile, size)
    assert not bad["ok"] and bad["decrypted"] == 0
    assert not srtp.check_samples(dump(plain), profile, size)["ok"]  # plain RTP is not SRTP
    assert not srtp.check_samples(tmp_path / "missing", profile, size)["ok"]
