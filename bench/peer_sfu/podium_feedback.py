"""What Podium's engine made of the subscribers' feedback during a level, from `GET /metrics`: the
transport-cc feedback its estimators applied (and dropped as malformed), the packets it numbered
for it, the NACKed packets (answered from its cache or asked of the publisher), the repairs it sent,
its bandwidth probes, the video its pacers held (and released, or sent early), its UDP GSO messages
and the datagrams they carried, what its fast path dropped (by reason) and its datagrams in and out.
The workers report every few seconds, so a reading waits for a report made after the level's media
stopped."""

from __future__ import annotations

import asyncio
import time
from typing import Any

SERIES = {
    "podium_engine_congestion_feedback_total": "kind",
    "podium_engine_transport_cc_numbered_total": None,
    "podium_engine_nacked_packets_total": "result",
    "podium_engine_repairs_sent_total": None,
    "podium_engine_probes_total": "outcome",
    "podium_engine_drops_total": "reason",
    "podium_engine_datagrams_sent_total": None,
    "podium_engine_datagrams_received_total": None,
    "podium_engine_paced_packets_total": "outcome",
    "podium_engine_gso_messages_total": "result",
    "podium_engine_gso_datagrams_total": None,
}
REPORT_WAIT = 7.0
"""Seconds to wait for a worker's next stats report (workers report every 5 s)."""


def parse(text: str) -> tuple[dict[str, float], float]:
    """({series name or name:label value: value summed over workers}, newest report time)."""
    out: dict[str, float] = {}
    newest = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, rest = line.partition("{") if "{" in line.split()[0] else (line.split()[0], "", "")
        value = float(line.split()[-1])
        if name == "podium_engine_stats_timestamp_seconds":
            newest = max(newest, value)
        if name not in SERIES:
            continue
        key = name
        label = SERIES[name]
        if label and rest:
            labels = dict(part.split("=", 1) for part in rest[: rest.index("}")].split(",") if "=" in part)
            key = f"{name}:{labels.get(label, '').strip(chr(34))}"
        out[key] = out.get(key, 0.0) + value
    return out, newest


async def read(server: Any, after: float = 0.0) -> dict[str, float]:
    """The series, from a report newer than `after` (Unix time) when one comes within REPORT_WAIT."""
    deadline = time.monotonic() + REPORT_WAIT
    while True:
        values, newest = parse(await asyncio.to_thread(server.metrics))
        if newest > after or time.monotonic() > deadline:
            return values
        await asyncio.sleep(0.25)


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k.removeprefix("podium_engine_"): v - before.get(k, 0.0) for k, v in sorted(after.items())}
