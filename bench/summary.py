"""Headline figures of a suite report (bench.suite's JSON): one row per figure, with its goal, for the
summary table `python -m bench` prints and the README's generated section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    part: str
    figure: str
    value: str
    goal: str
    met: bool | None
    """None: no goal, or not measured."""


def _ms(value: float) -> str:
    """A latency percentile; the histograms end at 100 ms (their last bucket holds the rest)."""
    return ">= 100" if value >= 100.0 else f"{value:.2f}"


def peer_top_level(result: dict[str, Any]) -> dict[str, Any] | None:
    """The highest load level where both SFUs ran and the generator kept up (else the highest one run)."""
    levels = [lv for lv in result.get("levels", []) if lv.get("ratio") is not None]
    kept_up = [lv for lv in levels if not lv["podium"]["generator_bound"] and not lv["janus"]["generator_bound"]]
    return (kept_up or levels or [None])[-1]


def _ratio_headline(part: str, result: dict[str, Any]) -> list[Headline]:
    head = result.get("headline") or {}
    value, target = head.get("value"), head.get("target")
    if "goal" in head:  # a figure with a unit or a spread: bench.engine_latency, bench.meeting_scale
        unit = head.get("unit", "")
        if value is None:
            shown = "n/a"
        elif unit == "ms":
            shown = f"{_ms(value)} ms"
        else:
            shown = f"{100 * value:.1f} %"
        return [Headline(part, head["name"], shown, head["goal"], head.get("met"))]
    return [
        Headline(
            part,
            head.get("name", "headline"),
            "n/a" if value is None else f"{value:.2f}",
            f">= {target}" if target is not None else "",
            None if value is None or target is None else value >= target,
        )
    ]


def _peer_headlines(part: str, result: dict[str, Any]) -> list[Headline]:
    top = peer_top_level(result)
    if top is None:
        return [Headline(part, "Podium / Janus packets per CPU-second", "n/a", ">= 5", None)]
    p, j = top["podium"], top["janus"]
    profile = result.get("srtp", "")
    rows = [
        Headline(
            part,
            f"Podium / Janus packets per CPU-second, {top['rooms']} rooms, {profile}",
            f"{top['ratio']:.2f}",
            ">= 5",
            top["ratio"] >= 5,
        ),
        Headline(
            part,
            "loss Podium vs Janus (same level)",
            f"{100 * (p['loss'] or 0):.2f} % vs {100 * (j['loss'] or 0):.2f} %",
            "not higher",
            (p["loss"] or 0) <= (j["loss"] or 0),
        ),
    ]
    if p.get("latency_ms_p99") is not None and j.get("latency_ms_p99") is not None:
        rows.append(
            Headline(
                part,
                "one-way latency through the SFU p50/p99 (Podium; Janus)",
                f"{_ms(p['latency_ms_p50'])}/{_ms(p['latency_ms_p99'])} ms; "
                f"{_ms(j['latency_ms_p50'])}/{_ms(j['latency_ms_p99'])} ms",
                "",
                None,
            )
        )
    memory = p.get("rss_kib_per_participant")
    if memory:
        rows.append(
            Headline(
                part,
                "resident memory per participant (Podium worker; control plane; Janus)",
                f"{memory['sfu']:.0f}; {memory['control_plane']:.0f}; "
                f"{(j.get('rss_kib_per_participant') or {}).get('sfu', float('nan')):.0f} KiB",
                "",
                None,
            )
        )
    return rows


def _join_headlines(part: str, result: dict[str, Any]) -> list[Headline]:
    frame = result.get("join_to_first_frame_ms", {})
    if frame.get("p50") is None:
        return [Headline(part, "join -> first decoded remote frame", "n/a", "p50 <= 500 ms", None)]
    return [
        Headline(
            part,
            f"join -> first decoded remote frame p50/p99 ({len(frame['values'])} joins)",
            f"{frame['p50']:.0f}/{frame['p99']:.0f} ms",
            f"p50 <= {result.get('goal_p50_ms', 500):.0f} ms",
            frame["p50"] <= result.get("goal_p50_ms", 500),
        )
    ]


def _estimator_headlines(part: str, result: dict[str, Any]) -> list[Headline]:
    rows = []
    for key, name in (("down", "2 Mbit/s -> 300 kbit/s"), ("up", "300 kbit/s -> 2 Mbit/s")):
        row = result.get(key) or {}
        value = "n/a" if row.get("p50_s") is None else f"{row['p50_s']:.2f}/{row['p99_s']:.2f} s"
        rows.append(
            Headline(
                part,
                f"estimate converged after a step {name}, p50/p99 "
                f"({row.get('converged', 0)}/{row.get('steps', 0)} steps)",
                value,
                "",
                None,
            )
        )
    return rows


def headlines(report: dict[str, Any]) -> list[Headline]:
    rows: list[Headline] = []
    for name, record in report.get("parts", {}).items():
        result = record.get("result")
        if result is None:
            rows.append(Headline(name, "(not measured)", record.get("error", "failed"), "", None))
            continue
        kind = result.get("benchmark", name)
        if kind == "peer_sfu":
            rows += _peer_headlines(name, result)
        elif kind == "browser_join":
            rows += _join_headlines(name, result)
        elif kind == "estimator_convergence":
            rows += _estimator_headlines(name, result)
        else:
            rows += _ratio_headline(name, result)
    return rows


def format_table(rows: list[Headline]) -> str:
    widths = [max(len(r.part) for r in rows), max(len(r.figure) for r in rows), max(len(r.value) for r in rows)]
    lines = [f"{'part':<{widths[0]}}  {'figure':<{widths[1]}}  {'value':>{widths[2]}}  goal"]
    for r in rows:
        verdict = "" if r.met is None else (" (met)" if r.met else " (not met)")
        lines.append(f"{r.part:<{widths[0]}}  {r.figure:<{widths[1]}}  {r.value:>{widths[2]}}  {r.goal}{verdict}")
    return "\n".join(lines)
