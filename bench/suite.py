"""The benchmark suite as one command: its parts, how each runs (full and --quick), and the one JSON
they make together.

Each part is a benchmark module run as its own process (`python -m bench.<module> ... --json FILE`),
so its progress lines show as it goes and one part's failure does not take the others down; the
suite gathers each part's JSON, with the command that produced it, under "parts"."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Part:
    name: str
    description: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    needs_root: bool = False

    def argv(self, quick: bool) -> list[str]:
        return ["python", "-m", self.module, *(self.quick if quick else self.full)]


PARTS: dict[str, Part] = {
    p.name: p
    for p in (
        Part(
            "forwarding",
            "engine vs C and Python forwarders, plain RTP (output pps, CPU per packet)",
            "bench.forwarding",
            (),
            ("--quick",),
        ),
        Part(
            "srtp_forwarding",
            "engine forwarding SRTP (GCM, SHA1-80) vs the C baseline",
            "bench.srtp_forwarding",
            (),
            ("--quick",),
        ),
        Part(
            "peer_sfu",
            "Podium vs Janus VideoRoom, compiled sender, AEAD_AES_128_GCM forced on both",
            "bench.peer_sfu",
            ("--rooms", "1,4,16,32", "--seconds", "8", "--srtp", "SRTP_AEAD_AES_128_GCM"),
            ("--rooms", "1,4", "--seconds", "2", "--srtp", "SRTP_AEAD_AES_128_GCM"),
            needs_root=True,
        ),
        Part(
            "peer_sfu_sha1",
            "Podium vs Janus VideoRoom, compiled sender, AES_CM_128_HMAC_SHA1_80 forced on both",
            "bench.peer_sfu",
            ("--rooms", "1,4,16,32", "--seconds", "8", "--srtp", "SRTP_AES128_CM_SHA1_80"),
            ("--rooms", "1", "--seconds", "2", "--srtp", "SRTP_AES128_CM_SHA1_80"),
            needs_root=True,
        ),
        Part(
            "engine_latency",
            "one-way latency of the engine and the C forwarder at 30/70/90 % of the engine's capacity",
            "bench.engine_latency",
            (),
            ("--quick",),
        ),
        Part(
            "estimator_convergence",
            "a subscriber transport's bandwidth estimate after 2 Mbit/s <-> 300 kbit/s steps (simulated link)",
            "bench.estimator_convergence",
            (),
            ("--quick",),
        ),
        Part(
            "meeting_scale",
            "engine CPU per forwarded packet from 1 to 1,000 concurrent meetings",
            "bench.meeting_scale",
            (),
            ("--quick",),
        ),
        Part(
            "browser_join",
            "join -> first decoded remote frame in headless Chromium",
            "bench.browser_join",
            ("--joins", "20"),
            ("--joins", "3"),
        ),
    )
}


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    memory_kib = 0
    try:
        with open("/proc/meminfo") as f:
            memory_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def describe_machine(m: dict[str, Any]) -> str:
    return f"{m['cpus']} CPUs ({m['cpu_model'] or 'unknown CPU'}), {m['memory_gib']} GiB, {m['platform']}"


def run_part(part: Part, quick: bool, timeout: float) -> dict[str, Any]:
    """Runs one part as a child process, its output passed through; returns its record for the JSON."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{part.name}-") as folder:
        out = Path(folder) / "part.json"
        argv = part.argv(quick)
        started = time.monotonic()
        record: dict[str, Any] = {"command": " ".join(argv), "description": part.description}
        try:
            finished = subprocess.run(
                [sys.executable, *argv[1:], "--json", str(out)], cwd=REPO, timeout=timeout, check=False
            )
            record["returncode"] = finished.returncode
        except subprocess.TimeoutExpired:
            record["returncode"] = None
            record["error"] = f"timed out after {timeout:.0f} s"
        record["seconds"] = round(time.monotonic() - started, 1)
        record["machine"] = machine()
        if out.exists():
            import json

            record["result"] = json.loads(out.read_text())
        elif "error" not in record:
            record["error"] = f"exited {record['returncode']} without writing its JSON"
    return record
