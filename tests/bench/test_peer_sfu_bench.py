"""The Podium-vs-Janus benchmark runs end to end at one small load level: a smoke test, not a speed
test (figures are not asserted). What it checks is what it observed: through each SFU every
subscriber received every publisher's audio and video during the measurement (sent and counted by
the compiled sender over the sockets aiortc keyed), with the one SRTP profile forced on both, so a
broken Janus driver cannot make Podium look good; and that the comparison is like for like: each
camera sent three simulcast layers and every subscriber received the top one, the receivers' transport-
wide feedback reached Podium's estimators, and both SFUs repaired the packets the receivers NACKed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(120)
def test_both_sfus_forward_every_stream(tmp_path: Path) -> None:
    out, picture = tmp_path / "peer-sfu.json", tmp_path / "peer-sfu.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.peer_sfu",
            "--rooms",
            "1",
            "--seconds",
            "2",
            "--drop-per-mille",
            "50",
            "--srtp",
            "SRTP_AES128_CM_SHA1_80",
            "--json",
            str(out),
            "--plot",
            str(picture),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Podium/Janus" in result.stdout
    report = json.loads(out.read_text())
    rows = {row["sfu"]: row for row in report["rows"]}
    assert set(rows) == {"podium", "janus"}
    for sfu, row in rows.items():
        # 2 publishers and 2 subscribers: each publisher's audio and video reach the 3 others
        assert row["streams"] == 12, sfu
        assert row["streams_flowing"] == row["streams"], (sfu, row)
        assert row["output_pps"] > 0 and row["sfu_cpu_s"] >= 0, (sfu, row)
        assert row["foreign_packets"] == 0 and row["send_errors"] == 0, (sfu, row)
        assert row["srtp_profiles"] == ["SRTP_AES128_CM_SHA1_80"], (sfu, row)
        # the compiled sender sent the media; every packet it received authenticated and was ours
        assert row["generator"] == "compiled" and row["auth_failures"] == 0, (sfu, row)
        assert 0 < row["latency_ms_p50"] <= row["latency_ms_p99"], (sfu, row)
        # read on the sender's tick, each arrival timed by the kernel's receive timestamp
        assert row["arrival_stamps"]["kernel"] > 0 and row["arrival_stamps"]["read"] == 0, (sfu, row)
        # STUN, DTLS and SRTCP on the subscribers' sockets went back to aiortc through the relay
        assert row["relayed"] > 0, (sfu, row)
        assert row["rss_kib"]["sfu"] > 0 and "sfu" in row["rss_kib_per_participant"], (sfu, row)
        # simulcast: three layers sent per camera; each of the 6 (subscriber, camera) pairs got the top one
        assert row["simulcast_layers_sent"] == 3 and row["video_pairs_by_layer"] == {"2": 6}, (sfu, row)
        # the receivers answered as browsers do, and the NACKed packets came back
        feedback = row["feedback"]
        assert feedback["twcc_feedbacks"] > 0 and feedback["reports_sent"] > 0, (sfu, feedback)
        assert feedback["feedback_errors"] == 0 and feedback["duplicates"] == 0, (sfu, feedback)
        assert feedback["dropped"] > 0 and feedback["nacks_sent"] > 0 and feedback["repaired"] > 0, (sfu, feedback)
    # Podium numbered what it sent and fed its estimators with the transport-cc feedback
    engine = rows["podium"]["engine_feedback"]
    assert engine["transport_cc_numbered_total"] > 0, engine
    assert engine["congestion_feedback_total:twcc"] > 0 and engine["congestion_feedback_total:twcc_malformed"] == 0
    assert engine["nacked_packets_total:cache_hit"] > 0 and engine["repairs_sent_total"] > 0, engine
    assert report["receive"] == "tick"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the benchmark removed what it created
    assert subprocess.run(["ip", "link", "show", "pdmbench0"], capture_output=True).returncode != 0
