"""Forwarding benchmark: the engine against a C and a plain-Python forwarder, in one run.

    python -m bench.forwarding [--quick] [--json PATH] [--cases 10x1200,...] [--forwarders c,python,engine]

One publisher, fan-out 1, 10 and 50, 100-byte and 1200-byte RTP packets, on 127.0.0.1. For every case
and forwarder it starts three processes: the sink (C, N subscriber sockets), the forwarder under test
and the load generator (C, one publisher), lets them run a warm-up, then measures a fixed window:

- output packets/s: datagrams the sink received per second (all N sockets);
- CPU time per forwarded packet: the forwarder process's user + system time over the window (from
  /proc/PID/stat), divided by those datagrams. On loopback the kernel delivers each datagram into the
  receiving socket in the sender's context, so this includes the delivery to the sink's sockets;

and prints them with the ratios engine / C baseline and engine / Python baseline per case. The last
line is the headline: engine / C output packets/s at fan-out 10 with 1200-byte packets.

Keeping the forwarder the bottleneck on a 2-core machine: the forwarder is pinned alone on the last
CPU, the generator and the sink share the others. Both are C (a Python generator or sink would be
slower than the forwarders they measure): the sink reads only the 12-byte header of each datagram, and
the generator sends with sendmmsg, closed-loop: at most --credit input packets in flight, counted
against what the sink received, so it never floods the forwarder's socket and sleeps while the
forwarder works. Columns that check it: "fwd CPU" (near 100 % of a core when the forwarder is the
bottleneck), "others" (CPU time other processes took on the forwarder's CPU: background noise, which
lowers packets/s but hardly CPU time per packet), "in drops" (datagrams the forwarder's socket
dropped), "resyncs" (credit windows the generator gave up as lost) and "bad" (datagrams at the sink
that were not a rewritten copy).

Every row runs --rounds times (default 3), rows interleaved, so that background load hits all three
forwarders alike; the figures are those of each row's median round.

A new forwarder row (e.g. the engine with SRTP transports) is one more entry in FORWARDERS.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import mmap
import os
import platform
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.baseline.build import build

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEADLINE_CASE = (10, 1200)
TARGET = 0.8
ALL_CASES = [(fanout, size) for fanout in (1, 10, 50) for size in (100, 1200)]
QUICK_CASES = [HEADLINE_CASE]

# struct counters in baseline/common.h: sink on one cache line, generator on the next.
_COUNTERS = struct.Struct("<3Q40x3Q40x")
_COUNTER_NAMES = ("sink_packets", "sink_bytes", "sink_bad", "gen_packets", "gen_resyncs", "gen_send_errors")

Command = Callable[[dict[str, Path], int, list[int], int], list[str]]


@dataclass(frozen=True)
class Forwarder:
    """One row of the benchmark: how to start a forwarder process.

    The process must bind a UDP port on 127.0.0.1, accept RTP from 127.0.0.1:source only, send a
    rewritten copy of each packet to every port in dests, print "port N" as its first stdout line once
    ready, stop on SIGTERM (printing one JSON line of its counters) and by itself after max_seconds.
    """

    name: str
    """Short name used in tables, --forwarders and the JSON."""
    description: str
    command: Command
    """(binaries, source port, destination ports, max seconds) -> argv."""
    packets: Callable[[int, int], bytes] | None = None
    """(size, count) -> the publisher's datagrams, prepared in advance (e.g. protected with SRTP), as
    loadgen --packets records; None: the generator writes plain RTP of `size` bytes itself."""
    startup_timeout: float = 30.0
    default: bool = True
    """Run without --forwarders; diagnostic rows are run only when named."""


def _python(module: str) -> Command:
    def command(binaries: dict[str, Path], source: int, dests: list[int], max_seconds: int) -> list[str]:
        return [sys.executable, "-m", module, "--source", str(source), "--dest", ",".join(map(str, dests)),
                "--max-seconds", str(max_seconds)]

    return command


def _c_forwarder(*flags: str) -> Command:
    def command(binaries: dict[str, Path], source: int, dests: list[int], max_seconds: int) -> list[str]:
        return [str(binaries["forwarder"]), "--source", str(source), "--dest", ",".join(map(str, dests)),
                "--max-seconds", str(max_seconds), *flags]

    return command


FORWARDERS: dict[str, Forwarder] = {
    f.name: f
    for f in (
        Forwarder("c", "C baseline: recvmmsg -> header rewrite -> sendmmsg (bench/baseline/forwarder.c)",
                  _c_forwarder()),
        Forwarder("python", "Python baseline: asyncio DatagramProtocol + sendto (bench/baseline/asyncio_forwarder.py)",
                  _python("bench.baseline.asyncio_forwarder")),
        Forwarder("engine", "Podium engine, plain RTP transports (bench/engine_forwarder.py)",
                  _python("bench.engine_forwarder")),
        Forwarder("c-engsock", "diagnostic: the C baseline on the engine's socket setup (dual-stack AF_INET6, "
                  "registered in epoll)", _c_forwarder("--ipv6", "--epoll"), default=False),
    )
}


@dataclass
class Settings:
    warmup: float
    window: float
    credit: int | None
    burst: int
    pin: bool
    prepared_packets: int = 100_000
    """Datagrams prepared for a forwarder with `packets`; a row that sends more starts over (replays)."""


_PR_SET_PDEATHSIG = 1


def _prepare_child(cpus: set[int] | None) -> None:
    """In the child, before exec: its CPUs, and SIGTERM when the benchmark dies."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A bounded child process: stdout piped (line protocol), stderr kept in a temporary file."""

    def __init__(self, argv: list[str], cpus: set[int] | None, stdin: bool = False) -> None:
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            preexec_fn=lambda: _prepare_child(cpus),
        )
        self.pid = self.process.pid

    def read_line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"{Path(self.argv[0]).name} {' '.join(self.argv[1:3])}: no output in {timeout} s"
                               + self.error_tail())
        line = self.process.stdout.readline().decode(errors="replace").strip()
        if not line:
            self.process.wait(timeout=5)
            raise RuntimeError(f"{' '.join(self.argv[:3])} exited ({self.process.returncode})" + self.error_tail())
        return line

    def send_line(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def stop(self) -> str:
        """SIGTERM, then SIGKILL after 10 s; returns the rest of its stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self.stderr.close()
        return out.decode(errors="replace")

    def error_tail(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode(errors="replace").strip()
        return f"\n--- stderr ---\n{text[-3000:]}" if text else ""


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def _udp_sockets() -> dict[int, tuple[int, int]]:
    """{local port on 127.0.0.1 or any: (receive queue bytes, drops)} from /proc/net/udp{,6}."""
    sockets = {}
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    port = int(parts[1].rsplit(":", 1)[1], 16)
                    rx_queue = int(parts[4].split(":")[1], 16)
                    sockets[port] = (rx_queue, int(parts[-1]))
        except OSError:
            pass
    return sockets


def _cpu_busy(cpus: set[int] | None) -> float:
    """Seconds the given CPUs (all when None) were not idle, from /proc/stat."""
    busy = 0
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if not name.startswith("cpu"):
                break
            if (cpus is None and name == "cpu") or (cpus is not None and name[3:] and int(name[3:]) in cpus):
                ticks = [int(v) for v in values]
                busy += sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait (guest is in user)
    return busy / CLOCK_TICKS


def _cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(forwarder's CPUs, generator's and sink's CPUs): the forwarder alone on the last CPU."""
    available = sorted(os.sched_getaffinity(0))
    if not pin or len(available) < 2:
        return None, None
    return {available[-1]}, set(available[:-1])


def run_case(forwarder: Forwarder, fanout: int, size: int, settings: Settings, binaries: dict[str, Path]) -> dict:
    """Runs one forwarder on one case; returns its figures (or an "error")."""
    result: dict = {"forwarder": forwarder.name, "fanout": fanout, "size": size}
    lifetime = int(settings.warmup + settings.window + forwarder.startup_timeout + 15)
    forwarder_cpus, helper_cpus = _cpus(settings.pin)
    credit = settings.credit or (128 if size <= 500 else 64)
    sink = loadgen = process = None
    shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(dir=shm_dir, prefix="podium-bench-") as page:
        page.write(bytes(_COUNTERS.size))
        page.flush()
        counters = mmap.mmap(page.fileno(), _COUNTERS.size)
        records = Path(page.name + ".packets")
        try:
            loadgen_args = []
            if forwarder.packets is not None:
                records.write_bytes(forwarder.packets(size, settings.prepared_packets))
                loadgen_args = ["--packets", str(records)]
            sink = Child([str(binaries["sink"]), "--sockets", str(fanout),
                          "--size", "0" if forwarder.packets else str(size),
                          "--counters", page.name, "--max-seconds", str(lifetime)], helper_cpus)
            dests = [int(p) for p in sink.read_line(10).split()[1].split(",")]
            loadgen = Child([str(binaries["loadgen"]), "--size", str(size), "--fanout", str(fanout),
                             "--counters", page.name, "--window", str(credit), "--burst", str(settings.burst),
                             "--max-seconds", str(lifetime), *loadgen_args], helper_cpus, stdin=True)
            source = int(loadgen.read_line(10).split()[1])
            process = Child(forwarder.command(binaries, source, dests, lifetime), forwarder_cpus)
            port = int(process.read_line(forwarder.startup_timeout).split()[1])
            loadgen.send_line(f"127.0.0.1 {port}")

            time.sleep(settings.warmup)
            before = _sample(counters, process, loadgen, sink, forwarder_cpus)
            time.sleep(settings.window)
            after = _sample(counters, process, loadgen, sink, forwarder_cpus)
            for child in (sink, loadgen, process):
                if child.process.poll() is not None:
                    raise RuntimeError(f"{' '.join(child.argv[:3])} exited ({child.process.returncode}) "
                                       f"during the measurement" + child.error_tail())
            result.update(_figures(before, after, port, dests))
        except Exception as error:  # noqa: BLE001 -- one failed row must not lose the others
            result["error"] = str(error)
        finally:
            # the generator first: a forwarder still busy with queued input may be slow to see SIGTERM
            if loadgen is not None:
                loadgen.stop()
            if process is not None:
                result["forwarder_counters"] = _last_json(process.stop())
            if sink is not None:
                sink.stop()
            counters.close()
            records.unlink(missing_ok=True)
    return result


def _sample(counters: mmap.mmap, forwarder: Child, loadgen: Child, sink: Child, cpus: set[int] | None) -> dict:
    sample = dict(zip(_COUNTER_NAMES, _COUNTERS.unpack(counters[:_COUNTERS.size])))
    sample["time"] = time.monotonic()
    sample["fwd_user"], sample["fwd_sys"] = _cpu_seconds(forwarder.pid)
    sample["gen_cpu"] = sum(_cpu_seconds(loadgen.pid))
    sample["sink_cpu"] = sum(_cpu_seconds(sink.pid))
    sample["udp"] = _udp_sockets()
    sample["cpu_busy"] = _cpu_busy(cpus) if cpus else None
    return sample


def _figures(before: dict, after: dict, port: int, dests: list[int]) -> dict:
    elapsed = after["time"] - before["time"]
    output = after["sink_packets"] - before["sink_packets"]
    user = after["fwd_user"] - before["fwd_user"]
    system = after["fwd_sys"] - before["fwd_sys"]

    def drops(ports: list[int]) -> int:
        return sum(after["udp"].get(p, (0, 0))[1] - before["udp"].get(p, (0, 0))[1] for p in ports)

    return {
        "seconds": round(elapsed, 3),
        "output_pps": output / elapsed,
        "input_pps": (after["gen_packets"] - before["gen_packets"]) / elapsed,
        "cpu_ns_per_packet": (user + system) / output * 1e9 if output else None,
        "forwarder_cpu_percent": 100 * (user + system) / elapsed,
        "forwarder_user_percent": 100 * user / elapsed,
        "forwarder_sys_percent": 100 * system / elapsed,
        # Time other processes took on the forwarder's CPU (its own CPU when pinned): background noise.
        "other_cpu_percent_on_forwarder_cpu": None if after["cpu_busy"] is None else
        max(0.0, 100 * (after["cpu_busy"] - before["cpu_busy"] - user - system) / elapsed),
        "loadgen_cpu_percent": 100 * (after["gen_cpu"] - before["gen_cpu"]) / elapsed,
        "sink_cpu_percent": 100 * (after["sink_cpu"] - before["sink_cpu"]) / elapsed,
        "bad_packets": after["sink_bad"] - before["sink_bad"],
        "loadgen_resyncs": after["gen_resyncs"] - before["gen_resyncs"],
        "input_drops": drops([port]),
        "sink_drops": drops(dests),
    }


def _last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _median_row(rows: list[dict]) -> dict:
    """The round with the median output packets/s (all its figures), with every round's pps and every
    failed round's error kept."""
    good = [r for r in rows if "error" not in r]
    failed = [r["error"] for r in rows if "error" in r]
    if not good:
        return rows[-1]
    row = dict(sorted(good, key=lambda r: r["output_pps"])[(len(good) - 1) // 2])
    row["rounds_output_pps"] = [round(r["output_pps"]) for r in good]
    if failed:
        row["failed_rounds"] = failed
    return row


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def ratios(results: list[dict], cases: list[tuple[int, int]]) -> list[dict]:
    by_key = {(r["forwarder"], r["fanout"], r["size"]): r for r in results if "error" not in r}
    out = []
    for fanout, size in cases:
        engine, c, python = (by_key.get((name, fanout, size), {}) for name in ("engine", "c", "python"))
        out.append({
            "fanout": fanout,
            "size": size,
            "engine_over_c_pps": _ratio(engine.get("output_pps"), c.get("output_pps")),
            "engine_over_python_pps": _ratio(engine.get("output_pps"), python.get("output_pps")),
            "engine_over_c_cpu_per_packet": _ratio(engine.get("cpu_ns_per_packet"), c.get("cpu_ns_per_packet")),
            "engine_over_python_cpu_per_packet": _ratio(engine.get("cpu_ns_per_packet"),
                                                        python.get("cpu_ns_per_packet")),
        })
    return out


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_tables(results: list[dict], case_ratios: list[dict]) -> None:
    print()
    print(f"{'fan-out':>7} {'size':>5} {'forwarder':<9} {'out pps':>11} {'CPU ns/pkt':>10} {'fwd CPU':>8} "
          f"{'(usr/sys)':>10} {'others':>6} {'gen+sink':>8} {'in drops':>8} {'resyncs':>7} {'bad':>4}")
    for r in results:
        head = f"{r['fanout']:>7} {r['size']:>5} {r['forwarder']:<9}"
        if "error" in r:
            print(f"{head} ERROR: {r['error'].splitlines()[0]}")
            continue
        note = f"  ({len(r['failed_rounds'])} round(s) failed)" if r.get("failed_rounds") else ""
        print(f"{head} {r['output_pps']:>11,.0f} {_fmt(r['cpu_ns_per_packet'], '>10,.0f')} "
              f"{r['forwarder_cpu_percent']:>7.0f}% "
              f"{r['forwarder_user_percent']:>4.0f}/{r['forwarder_sys_percent']:<4.0f}% "
              f"{_fmt(r['other_cpu_percent_on_forwarder_cpu'], '>5.0f')}% "
              f"{r['loadgen_cpu_percent'] + r['sink_cpu_percent']:>7.0f}% "
              f"{r['input_drops']:>8} {r['loadgen_resyncs']:>7} {r['bad_packets']:>4}{note}")
    print()
    print(f"{'fan-out':>7} {'size':>5} {'engine/C pps':>12} {'engine/Py pps':>13} "
          f"{'engine/C CPU/pkt':>16} {'engine/Py CPU/pkt':>17}")
    for r in case_ratios:
        print(f"{r['fanout']:>7} {r['size']:>5} {_fmt(r['engine_over_c_pps'], '>12.2f')} "
              f"{_fmt(r['engine_over_python_pps'], '>13.2f')} {_fmt(r['engine_over_c_cpu_per_packet'], '>16.2f')} "
              f"{_fmt(r['engine_over_python_cpu_per_packet'], '>17.2f')}")
    print()


def headline(case_ratios: list[dict], results: list[dict]) -> tuple[str, dict]:
    pick = next((r for r in case_ratios if (r["fanout"], r["size"]) == HEADLINE_CASE), case_ratios[0])
    value = pick["engine_over_c_pps"]
    text = f"engine/C output pps at fan-out {pick['fanout']}, {pick['size']} B = "
    if value is None:
        failed = [r for r in results if r["forwarder"] in ("engine", "c") and "error" in r
                  and (r["fanout"], r["size"]) == (pick["fanout"], pick["size"])]
        reason = failed[0]["error"].splitlines()[0] if failed else "not measured"
        return f"headline: {text}n/a ({reason})", {"name": text.strip(" ="), "value": None}
    verdict = "meets" if value >= TARGET else "below"
    cpu = pick["engine_over_c_cpu_per_packet"]
    line = f"headline: {text}{value:.2f} ({verdict} the {TARGET} target; CPU time per packet engine/C = {cpu:.2f})"
    return line, {"name": text.strip(" ="), "value": value, "target": TARGET, "fanout": pick["fanout"],
                  "size": pick["size"]}


def _parse_cases(text: str) -> list[tuple[int, int]]:
    cases = []
    for item in text.split(","):
        fanout, size = item.lower().split("x")
        cases.append((int(fanout), int(size)))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fan-out 10 x 1200 B, short windows")
    parser.add_argument("--json", metavar="PATH", help="write every figure there")
    parser.add_argument("--cases", type=_parse_cases, help="FANOUTxSIZE,... (default: 1,10,50 x 100,1200)")
    parser.add_argument("--forwarders", default=",".join(n for n, f in FORWARDERS.items() if f.default),
                        help=f"comma-separated rows to run, of: {', '.join(FORWARDERS)}")
    parser.add_argument("--rounds", type=int,
                        help="measure every row this often, interleaved; report the median (default 3, quick 1)")
    parser.add_argument("--warmup", type=float, help="seconds before each window (default 0.7, quick 0.3)")
    parser.add_argument("--window", type=float, help="seconds measured per row (default 1.5, quick 1.0)")
    parser.add_argument("--credit", type=int,
                        help="load generator: input packets in flight at most (default: 128 up to 500 B, else 64, "
                             "so that they fit the forwarder's default 208 KiB receive buffer)")
    parser.add_argument("--burst", type=int, default=32, help="load generator: packets per sendmmsg at most")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin the forwarder to its own CPU")
    args = parser.parse_args(argv)

    cases = args.cases or (QUICK_CASES if args.quick else ALL_CASES)
    rounds = args.rounds or (1 if args.quick else 3)
    names = [n.strip() for n in args.forwarders.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORWARDERS]
    if unknown:
        parser.error(f"unknown forwarders {unknown}; known: {', '.join(FORWARDERS)}")
    settings = Settings(
        warmup=args.warmup if args.warmup is not None else (0.3 if args.quick else 0.7),
        window=args.window if args.window is not None else (1.0 if args.quick else 1.5),
        credit=args.credit,
        burst=args.burst,
        pin=args.pin,
    )
    binaries = build()
    started = time.time()
    load_before = os.getloadavg()
    forwarder_cpus, helper_cpus = _cpus(settings.pin)
    print(f"forwarding benchmark: {len(cases)} cases x {len(names)} forwarders x {rounds} rounds, "
          f"{settings.warmup} s warm-up + {settings.window} s window each; "
          f"forwarder on CPUs {sorted(forwarder_cpus) if forwarder_cpus else 'any'}, generator and sink on "
          f"{sorted(helper_cpus) if helper_cpus else 'any'}; load average {load_before[0]:.2f}")
    for name in names:
        print(f"  {name:<7} {FORWARDERS[name].description}")

    rows: dict[tuple[str, int, int], list[dict]] = {}
    for round_ in range(rounds):
        for fanout, size in cases:
            for name in names:  # interleaved, so background load hits every row alike
                row = run_case(FORWARDERS[name], fanout, size, settings, binaries)
                rows.setdefault((name, fanout, size), []).append(row)
                status = row["error"].splitlines()[0] if "error" in row else \
                    f"{row['output_pps']:,.0f} pps, {row['forwarder_cpu_percent']:.0f}% CPU"
                print(f"  [{round_ + 1}/{rounds}] fan-out {fanout:>2}, {size:>4} B, {name:<7} {status}",
                      flush=True)
    results = [_median_row(rows[(name, fanout, size)]) for fanout, size in cases for name in names]
    case_ratios = ratios(results, cases)
    print_tables(results, case_ratios)
    line, head = headline(case_ratios, results)
    load_after = os.getloadavg()
    print(f"{time.time() - started:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"(other processes on this machine make figures noisy)")

    if args.json:
        report = {
            "benchmark": "forwarding",
            "command": " ".join(["python", "-m", "bench.forwarding", *(argv if argv is not None else sys.argv[1:])]),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                        "load_average_before": load_before, "load_average_after": load_after},
            "settings": {**vars(settings), "rounds": rounds, "cases": cases, "forwarders": names},
            "forwarders": {n: FORWARDERS[n].description for n in names},
            "results": results,
            "ratios": case_ratios,
            "headline": head,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(line, flush=True)
    return 1 if any("error" in r or r.get("failed_rounds") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
