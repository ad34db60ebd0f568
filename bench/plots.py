"""PNG plots of a suite report (bench.suite's JSON), with matplotlib: throughput and CPU per packet
against load (Podium, Janus, the C baseline), latency percentiles, memory per participant. Each plot
draws what the report holds and skips what it does not."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from bench.suite import describe_machine

SFU_STYLE = {"podium": ("Podium", "o-"), "janus": ("Janus VideoRoom", "s--")}
FORWARDER_COLOURS = {"engine": "tab:blue", "c": "tab:green", "python": "tab:red"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["axes.titlesize"] = 9
    import matplotlib.pyplot as plt

    return plt


def _peer_parts(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, record["result"])
        for name, record in report.get("parts", {}).items()
        if record.get("result", {}).get("benchmark") == "peer_sfu"
    ]


def _rows(result: dict[str, Any], sfu: str, key: str) -> tuple[list[float], list[float]]:
    rows = [r for r in result["rows"] if r["sfu"] == sfu and r.get(key) is not None]
    rows.sort(key=lambda r: r["target_output_pps"])
    return [r["target_output_pps"] for r in rows], [r[key] for r in rows]


def _profile(result: dict[str, Any]) -> str:
    return result.get("srtp", "").replace("SRTP_", "")


def _footer(fig: Any, report: dict[str, Any]) -> None:
    text = f"python -m bench {report.get('arguments', '')}".strip() + f" on {describe_machine(report['machine'])}"
    fig.text(0.01, 0.005, textwrap.fill(text, 160), fontsize=6, color="0.4")


def plot_throughput(report: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(3, 2, figsize=(11, 11))
    (out_ax, cpu_ax), (fwd_pps_ax, fwd_cpu_ax), (paced_ax, scale_ax) = axes
    for _part, result in _peer_parts(report):
        for sfu, (label, style) in SFU_STYLE.items():
            x, y = _rows(result, sfu, "output_pps")
            if x:
                (line,) = out_ax.plot(x, y, style, label=f"{label} ({_profile(result)})")
                bound = [r for r in result["rows"] if r["sfu"] == sfu and r.get("generator_bound")]
                if bound:  # rings: the generator did not send the level's full load
                    out_ax.plot(
                        [r["target_output_pps"] for r in bound],
                        [r["output_pps"] for r in bound],
                        "o",
                        markersize=12,
                        markerfacecolor="none",
                        color=line.get_color(),
                        label=f"{label}: generator below target",
                    )
            x, per = _rows(result, sfu, "packets_per_cpu_s")
            if x:
                cpu_ax.plot(x, [1e6 / v for v in per], style, label=f"{label} ({_profile(result)})")
    out_ax.set(
        title="meeting load through each SFU: throughput",
        xlabel="offered output packets/s",
        ylabel="received output packets/s",
    )
    cpu_ax.set(
        title="meeting load: SFU CPU per forwarded packet",
        xlabel="offered output packets/s",
        ylabel="CPU µs per packet (SFU processes)",
    )
    for name, ax_pps, ax_cpu in (("forwarding", fwd_pps_ax, fwd_cpu_ax),):
        result = report.get("parts", {}).get(name, {}).get("result")
        if not result:
            continue
        cases = sorted({(r["fanout"], r["size"]) for r in result["results"]})
        labels = [f"{f}×{s}B" for f, s in cases]
        forwarders = [f for f in ("c", "engine", "python") if any(r["forwarder"] == f for r in result["results"])]
        width = 0.8 / max(1, len(forwarders))
        for i, forwarder in enumerate(forwarders):
            by = {(r["fanout"], r["size"]): r for r in result["results"] if r["forwarder"] == forwarder}
            xs = [k + (i - (len(forwarders) - 1) / 2) * width for k in range(len(cases))]
            colour = FORWARDER_COLOURS.get(forwarder)
            name_shown = {"c": "C baseline", "engine": "Podium engine", "python": "Python asyncio"}[forwarder]
            ax_pps.bar(xs, [by.get(c, {}).get("output_pps") or 0 for c in cases], width, label=name_shown, color=colour)
            ax_cpu.bar(
                xs, [by.get(c, {}).get("cpu_ns_per_packet") or 0 for c in cases], width, label=name_shown, color=colour
            )
        for ax in (ax_pps, ax_cpu):
            ax.set_xticks(range(len(cases)), labels, fontsize=7)
            ax.set_xlabel("fan-out × packet size (one publisher, 127.0.0.1)")
        ax_pps.set(title="forwarder at full load: throughput", ylabel="output packets/s")
        ax_cpu.set(title="forwarder at full load: CPU per packet", ylabel="CPU ns per forwarded packet")
    paced = report.get("parts", {}).get("engine_latency", {}).get("result")
    if paced:
        baseline = paced.get("baseline", "c")
        for name, label, style in (("engine", "Podium engine", "o-"), (baseline, f"C baseline ({baseline})", "s--")):
            rows = [lv[name] for lv in paced["levels"] if lv[name].get("cpu_ns_per_packet_exact")]
            paced_ax.plot(
                [r["output_pps"] for r in rows],
                [r["cpu_ns_per_packet_exact"] for r in rows],
                style,
                color=FORWARDER_COLOURS["engine" if name == "engine" else "c"],
                label=label,
            )
        paced_ax.set(
            title=f"paced load, fan-out {paced['fanout']}: CPU per packet",
            xlabel="output packets/s (30/70/90 % of the engine's capacity)",
            ylabel="CPU ns per forwarded packet",
        )
    scale = report.get("parts", {}).get("meeting_scale", {}).get("result")
    if scale:
        for variant, style, colour, name in (
            ("gso", "o-", FORWARDER_COLOURS["engine"], "Podium engine (gso)"),
            ("no-gso", "s--", FORWARDER_COLOURS["engine"], "Podium engine (no-gso)"),
            ("c-gso", "^:", FORWARDER_COLOURS["c"], "C baseline (gso)"),
        ):
            rows = [
                r for r in scale["levels"] if r.get("cpu_ns_per_packet_exact") and r.get("variant", "gso") == variant
            ]
            if rows:
                scale_ax.plot(
                    [r["meetings"] for r in rows],
                    [r["cpu_ns_per_packet_exact"] for r in rows],
                    style,
                    color=colour,
                    label=f"{name}, {scale['rate']:,.0f} input packets/s in all",
                )
        scale_ax.set_xscale("log")
        scale_ax.set(
            title="concurrent meetings (1 publisher + 2 subscribers each)",
            xlabel="meetings in one engine",
            ylabel="CPU ns per forwarded packet",
        )
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    _footer(fig, report)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_latency(report: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, (sfu_ax, engine_ax, join_ax) = plt.subplots(1, 3, figsize=(15, 4.4))
    for _part, result in _peer_parts(report):
        for sfu, (label, style) in SFU_STYLE.items():
            for key, alpha in (("latency_ms_p50", 1.0), ("latency_ms_p99", 0.5)):
                x, y = _rows(result, sfu, key)
                if x:
                    sfu_ax.plot(x, y, style, alpha=alpha, label=f"{label} {key[-3:]} ({_profile(result)})")
    sfu_ax.set_yscale("log")
    sfu_ax.set(
        title="one-way latency through the SFU (sender → SFU → receiver)",
        xlabel="offered output packets/s",
        ylabel="ms (log)",
    )
    paced = report.get("parts", {}).get("engine_latency", {}).get("result")
    if paced:
        baseline = paced.get("baseline", "c")
        for name, label, colour in (
            ("engine", "Podium engine", "tab:blue"),
            (baseline, f"C baseline ({baseline})", "tab:green"),
        ):
            for key, style in (("latency_ms_p50", "o-"), ("latency_ms_p99", "o:")):
                rows = [(lv["load"], lv[name].get(key)) for lv in paced["levels"] if lv[name].get(key) is not None]
                engine_ax.plot(
                    [100 * load for load, _ in rows],
                    [v for _, v in rows],
                    style,
                    color=colour,
                    label=f"{label} {key[-3:]}",
                )
        engine_ax.set_yscale("log")
        engine_ax.set(
            title=f"one-way latency, fan-out {paced['fanout']}, paced",
            xlabel="load, % of the engine's capacity in this run",
            ylabel="ms (log)",
        )
    join = report.get("parts", {}).get("browser_join", {}).get("result")
    if join and join["join_to_first_frame_ms"]["values"]:
        values = sorted(join["join_to_first_frame_ms"]["values"])
        join_ax.plot([100 * (i + 0.5) / len(values) for i in range(len(values))], values, "o-", label="Podium")
        join_ax.axhline(join.get("goal_p50_ms", 500), color="0.5", linestyle=":", label="goal for p50")
        join_ax.set(
            title="join → first decoded remote frame (headless Chromium)",
            xlabel="percentile of joins",
            ylabel="ms",
        )
    for ax in (sfu_ax, engine_ax, join_ax):
        ax.grid(alpha=0.3)
        if ax.get_yscale() == "linear":
            ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _footer(fig, report)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_memory(report: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for _part, result in _peer_parts(report):
        for sfu, process, label, style in (
            ("podium", "sfu", "Podium engine worker", "o-"),
            ("podium", "control_plane", "Podium control plane", "^-"),
            ("janus", "sfu", "Janus", "s--"),
        ):
            rows = [r for r in result["rows"] if r["sfu"] == sfu and r.get("rss_kib_per_participant")]
            if rows:
                ax.plot(
                    [r["rooms"] * (r["publishers"] + r["subscribers"]) for r in rows],
                    [r["rss_kib_per_participant"][process] for r in rows],
                    style,
                    label=f"{label} ({_profile(result)})",
                )
    ax.set(
        title="resident memory per participant (growth while the meetings ran)",
        xlabel="participants",
        ylabel="KiB per participant",
    )
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _footer(fig, report)
    fig.savefig(path, dpi=100)
    plt.close(fig)


PLOTS = {"throughput.png": plot_throughput, "latency.png": plot_latency, "memory.png": plot_memory}


def main(argv: list[str] | None = None) -> int:
    """python -m bench.plots REPORT.json FOLDER: draws the plots again from a report."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    for path in plot_all(json.loads(args.report.read_text()), args.folder):
        print(path)
    return 0


def plot_all(report: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PLOTS.items():
        draw(report, folder / name)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    raise SystemExit(main())
