"""What the forwarding benchmarks share: starting a sink, a forwarder and a load generator on 127.0.0.1,
measuring a window, and the rounds, options and report around it.

bench/forwarding.py (plain RTP) and bench/srtp_forwarding.py (SRTP) are tables of Forwarder rows over
this module; each adds only its ratios and headline. How a case is measured:

- output packets/s: datagrams the sink received per second (all N sockets);
- CPU time per forwarded packet: the forwarder process's user + system time over the window (from
  /proc/PID/stat), divided by those datagrams. On loopback the kernel delivers each datagram into the
  receiving socket on the sender's CPU, but a kernel that accounts softirq time apart (most do) charges
  that delivery to the CPU's softirq, not to the process: "irq ns/pkt" is the softirq time of the
  forwarder's CPU per forwarded packet (pinned runs only), mostly that delivery.

Keeping the forwarder the bottleneck on a 2-core machine: the forwarder is pinned alone on the last
CPU, the generator and the sink share the others. Both are C (a Python generator or sink would be
slower than the forwarders they measure): the sink reads only the 12-byte header of each datagram, and
the generator sends with sendmmsg, closed-loop: at most --credit input packets in flight, counted
against what the sink received, so it never floods the forwarder's socket and sleeps while the
forwarder works. Columns that check it: "fwd CPU" (near 100 % of a core when the forwarder is the
bottleneck and has its CPU to itself), "waited" (time the forwarder was runnable but another process
had its CPU, from schedstat: fwd CPU + waited near 100 % says it always had work, so it was the
bottleneck, and how much of its CPU the scheduler gave to others), "others" (CPU time other processes
took on the forwarder's CPU, softirq aside: background noise, which lowers packets/s but hardly CPU
time per packet), "in drops" (datagrams the forwarder's socket dropped), "resyncs" (credit windows
the generator gave up as lost) and "bad" (datagrams at the sink that were not a rewritten copy of the
expected length).

A row with SRTP (Forwarder.srtp) runs the same way with protected packets end to end: the generator
protects every packet on the fly with the publisher's key (libsrtp from pylibsrtp's extension, see
bench/baseline/loadgen.c), the sink expects the protected length (payload + tag) and writes the first
datagrams of each socket whole to a file, which bench/srtp.py then unprotects with pylibsrtp under
that subscriber's key: the row's "srtp_check".

Every row runs --rounds times, rows interleaved (their order reversed every other round), so that
background load hits all forwarders alike; the figures are those of each row's median round, and each
round's figures are kept ("rounds") so that a benchmark can also form a ratio per round, between rows
measured a few seconds apart, and report the median of those (paired_ratio). On a shared machine a
row's packets/s follow the share of its CPU the scheduler gives the forwarder, which moves from one
window to the next far more than the forwarders differ: with other sessions' test runs on the machine
the forwarder, always runnable, got 1-83 % of its CPU (Linux shares a CPU fairly between sessions,
sched_autogroup, so a lower nice value does not buy it back), and a single round's ratio of two rows
ranged 0.3 to 63.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import srtp
from bench.baseline.build import build

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# struct counters in baseline/common.h: sink on one cache line, generator on the next.
_COUNTERS = struct.Struct("<3Q40x3Q40x")
_COUNTER_NAMES = ("sink_packets", "sink_bytes", "sink_bad", "gen_packets", "gen_resyncs", "gen_send_errors")

Command = Callable[[dict[str, Path], int, list[int], int], list[str]]


@dataclass(frozen=True)
class Forwarder:
    """One row of a benchmark: how to start a forwarder process.

    The process must bind a UDP port on 127.0.0.1, accept RTP from 127.0.0.1:source only, send a
    rewritten copy of each packet to every port in dests, print "port N" as its first stdout line once
    ready, stop on SIGTERM (printing one JSON line of its counters) and by itself after max_seconds.
    """

    name: str
    """Short name used in tables, --forwarders and the JSON."""
    description: str
    command: Command
    """(binaries, source port, destination ports, max seconds) -> argv."""
    srtp: int | None = None
    """SRTP profile (RFC 5764 numbering) of both sides, or None for plain RTP. With a profile the
    generator protects with srtp.key_salt("publisher", 0, profile) and the forwarder must protect the
    copy for destination i with srtp.key_salt("subscriber", i, profile) (bench/srtp.py)."""
    loadgen_args: tuple[str, ...] = ()
    """More arguments for the load generator of this row (e.g. ("--extensions", "1"))."""
    size_change: int = 0
    """Bytes each copy gains (or loses) on the way, for the sink's size check: a row whose forwarder
    writes a header extension block of another size than the load generator's."""
    startup_timeout: float = 30.0
    default: bool = True
    """Run without --forwarders; diagnostic rows are run only when named."""


def python_forwarder(module: str, *flags: str) -> Command:
    def command(binaries: dict[str, Path], source: int, dests: list[int], max_seconds: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            module,
            "--source",
            str(source),
            "--dest",
            ",".join(map(str, dests)),
            "--max-seconds",
            str(max_seconds),
            *flags,
        ]

    return command


def c_forwarder(*flags: str) -> Command:
    def command(binaries: dict[str, Path], source: int, dests: list[int], max_seconds: int) -> list[str]:
        return [
            str(binaries["forwarder"]),
            "--source",
            str(source),
            "--dest",
            ",".join(map(str, dests)),
            "--max-seconds",
            str(max_seconds),
            *flags,
        ]

    return command


@dataclass
class Settings:
    warmup: float
    window: float
    credit: int | None
    burst: int
    pin: bool


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
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
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
            raise RuntimeError(
                f"{Path(self.argv[0]).name} {' '.join(self.argv[1:3])}: no output in {timeout} s" + self.error_tail()
            )
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


def _waited_seconds(pid: int) -> float | None:
    """Seconds a process's threads were runnable but waiting for a CPU (/proc/PID/task/*/schedstat);
    None where the kernel keeps no schedstat."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


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


def _cpu_softirq(cpus: set[int]) -> float:
    """Seconds the given CPUs spent in softirq (network delivery on loopback), from /proc/stat."""
    ticks = 0
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if not name.startswith("cpu"):
                break
            if name[3:] and int(name[3:]) in cpus:
                ticks += int(values[6])
    return ticks / CLOCK_TICKS


def cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(forwarder's CPUs, generator's and sink's CPUs): the forwarder alone on the last CPU."""
    available = sorted(os.sched_getaffinity(0))
    if not pin or len(available) < 2:
        return None, None
    return {available[-1]}, set(available[:-1])


def run_case(forwarder: Forwarder, fanout: int, size: int, settings: Settings, binaries: dict[str, Path]) -> dict:
    """Runs one forwarder on one case (`size`: RTP packet bytes before any SRTP tag); returns its
    figures (or an "error")."""
    result: dict = {"forwarder": forwarder.name, "fanout": fanout, "size": size}
    lifetime = int(settings.warmup + settings.window + forwarder.startup_timeout + 15)
    forwarder_cpus, helper_cpus = cpus(settings.pin)
    credit = settings.credit or (128 if size <= 500 else 64)
    sink = loadgen = process = None
    shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(dir=shm_dir, prefix="podium-bench-") as page:
        page.write(bytes(_COUNTERS.size))
        page.flush()
        counters = mmap.mmap(page.fileno(), _COUNTERS.size)
        dump = Path(page.name + ".samples")
        try:
            loadgen_args, sink_args, wire_size = list(forwarder.loadgen_args), [], size + forwarder.size_change
            if forwarder.srtp is not None:
                wire_size += srtp.PROFILES[forwarder.srtp].tag_length
                loadgen_args += [
                    "--srtp",
                    str(forwarder.srtp),
                    "--libsrtp",
                    srtp.libsrtp_path(),
                    "--key",
                    srtp.key_salt("publisher", 0, forwarder.srtp).hex(),
                ]
                sink_args = ["--dump", str(dump), "--dump-count", str(srtp.SAMPLES_PER_SOCKET)]
            sink = Child(
                [
                    str(binaries["sink"]),
                    "--sockets",
                    str(fanout),
                    "--size",
                    str(wire_size),
                    "--counters",
                    page.name,
                    "--max-seconds",
                    str(lifetime),
                    *sink_args,
                ],
                helper_cpus,
            )
            dests = [int(p) for p in sink.read_line(10).split()[1].split(",")]
            loadgen = Child(
                [
                    str(binaries["loadgen"]),
                    "--size",
                    str(size),
                    "--fanout",
                    str(fanout),
                    "--counters",
                    page.name,
                    "--window",
                    str(credit),
                    "--burst",
                    str(settings.burst),
                    "--max-seconds",
                    str(lifetime),
                    *loadgen_args,
                ],
                helper_cpus,
                stdin=True,
            )
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
                    raise RuntimeError(
                        f"{' '.join(child.argv[:3])} exited ({child.process.returncode}) "
                        f"during the measurement" + child.error_tail()
                    )
            result.update(_figures(before, after, port, dests))
        except Exception as error:
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
            if forwarder.srtp is not None and "error" not in result:
                result["srtp_check"] = srtp.check_samples(dump, forwarder.srtp, size)
            dump.unlink(missing_ok=True)
    return result


def _sample(counters: mmap.mmap, forwarder: Child, loadgen: Child, sink: Child, cpus: set[int] | None) -> dict:
    sample = dict(zip(_COUNTER_NAMES, _COUNTERS.unpack(counters[: _COUNTERS.size])))
    sample["time"] = time.monotonic()
    sample["fwd_user"], sample["fwd_sys"] = _cpu_seconds(forwarder.pid)
    sample["fwd_waited"] = _waited_seconds(forwarder.pid)
    sample["gen_cpu"] = sum(_cpu_seconds(loadgen.pid))
    sample["sink_cpu"] = sum(_cpu_seconds(sink.pid))
    sample["udp"] = _udp_sockets()
    sample["cpu_busy"] = _cpu_busy(cpus) if cpus else None
    sample["softirq"] = _cpu_softirq(cpus) if cpus else None
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
        # softirq time on the forwarder's CPU (its own, pinned): mostly the loopback delivery of what it sent
        "softirq_ns_per_packet": None
        if after["softirq"] is None or not output
        else (after["softirq"] - before["softirq"]) / output * 1e9,
        # both: what each forwarded packet cost the forwarder's CPU, its delivery included
        "cpu_irq_ns_per_packet": None
        if after["softirq"] is None or not output
        else (user + system + after["softirq"] - before["softirq"]) / output * 1e9,
        "forwarder_cpu_percent": 100 * (user + system) / elapsed,
        "forwarder_user_percent": 100 * user / elapsed,
        "forwarder_sys_percent": 100 * system / elapsed,
        # runnable but not running: the CPU the forwarder wanted and other processes had (fwd CPU + this
        # near 100 %: the forwarder always had work, and was the bottleneck)
        "forwarder_waited_percent": None
        if after["fwd_waited"] is None or before["fwd_waited"] is None
        else 100 * (after["fwd_waited"] - before["fwd_waited"]) / elapsed,
        # Time other processes took on the forwarder's CPU (its own CPU when pinned): background noise.
        "other_cpu_percent_on_forwarder_cpu": None
        if after["cpu_busy"] is None
        else max(
            0.0,
            100
            * (after["cpu_busy"] - before["cpu_busy"] - user - system - (after["softirq"] - before["softirq"]))
            / elapsed,
        ),
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


ROUND_FIGURES = (
    "output_pps",
    "cpu_ns_per_packet",
    "softirq_ns_per_packet",
    "cpu_irq_ns_per_packet",
    "forwarder_cpu_percent",
    "forwarder_waited_percent",
    "other_cpu_percent_on_forwarder_cpu",
)


def median_row(rows: list[dict]) -> dict:
    """The round with the median output packets/s (all its figures), with every round's pps and every
    failed round's error kept, and "rounds": each good round's main figures by round number (0-based)."""
    good = [r for r in rows if "error" not in r]
    failed = [r["error"] for r in rows if "error" in r]
    if not good:
        return rows[-1]
    row = dict(sorted(good, key=lambda r: r["output_pps"])[(len(good) - 1) // 2])
    row["rounds_output_pps"] = [round(r["output_pps"]) for r in good]
    row["rounds"] = [
        {"round": i, **{k: r.get(k) for k in ROUND_FIGURES}} for i, r in enumerate(rows) if "error" not in r
    ]
    if failed:
        row["failed_rounds"] = failed
    return row


def median(values: list[float]) -> float | None:
    """The median (the mean of the middle two for an even count); None for no values."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def paired_ratios(a: dict, b: dict, key: str = "output_pps", inverse: bool = False) -> list[float]:
    """a's figure over b's (b's over a's with inverse, for costs), one per round both measured."""
    b_rounds = {r["round"]: r.get(key) for r in b.get("rounds", [])}
    out = []
    for r in a.get("rounds", []):
        x, y = r.get(key), b_rounds.get(r["round"])
        value = ratio(y, x) if inverse else ratio(x, y)
        if value is not None:
            out.append(value)
    return out


def paired_ratio(a: dict, b: dict, key: str = "output_pps", inverse: bool = False) -> float | None:
    """The median over rounds of a's figure over b's in the same round (paired_ratios)."""
    return median(paired_ratios(a, b, key, inverse))


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_results(results: list[dict]) -> None:
    """The per-row table, every benchmark alike."""
    width = max([9, *(len(r["forwarder"]) for r in results)])
    print()
    print(
        f"{'fan-out':>7} {'size':>5} {'forwarder':<{width}} {'out pps':>11} {'CPU ns/pkt':>10} {'fwd CPU':>8} "
        f"{'(usr/sys)':>10} {'waited':>6} {'irq ns/pkt':>10} {'others':>6} {'gen+sink':>8} {'in drops':>8} "
        f"{'resyncs':>7} {'bad':>4}"
    )
    for r in results:
        head = f"{r['fanout']:>7} {r['size']:>5} {r['forwarder']:<{width}}"
        if "error" in r:
            print(f"{head} ERROR: {r['error'].splitlines()[0]}")
            continue
        note = f"  ({len(r['failed_rounds'])} round(s) failed)" if r.get("failed_rounds") else ""
        print(
            f"{head} {r['output_pps']:>11,.0f} {fmt(r['cpu_ns_per_packet'], '>10,.0f')} "
            f"{r['forwarder_cpu_percent']:>7.0f}% "
            f"{r['forwarder_user_percent']:>4.0f}/{r['forwarder_sys_percent']:<4.0f}% "
            f"{fmt(r.get('forwarder_waited_percent'), '>5.0f')}% "
            f"{fmt(r.get('softirq_ns_per_packet'), '>10,.0f')} "
            f"{fmt(r['other_cpu_percent_on_forwarder_cpu'], '>5.0f')}% "
            f"{r['loadgen_cpu_percent'] + r['sink_cpu_percent']:>7.0f}% "
            f"{r['input_drops']:>8} {r['loadgen_resyncs']:>7} {r['bad_packets']:>4}{note}"
        )
    print()


def parse_cases(text: str) -> list[tuple[int, int]]:
    cases = []
    for item in text.split(","):
        fanout, size = item.lower().split("x")
        cases.append((int(fanout), int(size)))
    return cases


def add_arguments(
    parser: argparse.ArgumentParser, forwarders: dict[str, Forwarder], default_cases: str, default_rounds: int = 3
) -> None:
    """The options every forwarding benchmark takes."""
    parser.add_argument("--quick", action="store_true", help="smoke run: fan-out 10 x 1200 B, short windows")
    parser.add_argument("--json", metavar="PATH", help="write every figure there")
    parser.add_argument("--cases", type=parse_cases, help=f"FANOUTxSIZE,... (default: {default_cases})")
    parser.add_argument(
        "--forwarders",
        default=",".join(n for n, f in forwarders.items() if f.default),
        help=f"comma-separated rows to run, of: {', '.join(forwarders)}",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"measure every row this often, interleaved; report the median (default {default_rounds}, quick 1)",
    )
    parser.add_argument("--warmup", type=float, help="seconds before each window (default 0.7, quick 0.2)")
    parser.add_argument("--window", type=float, help="seconds measured per row (default 1.5, quick 0.5)")
    parser.add_argument(
        "--credit",
        type=int,
        help="load generator: input packets in flight at most (default: 128 up to 500 B, else 64, "
        "so that they fit the forwarder's default 208 KiB receive buffer)",
    )
    parser.add_argument("--burst", type=int, default=32, help="load generator: packets per sendmmsg at most")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin the forwarder to its own CPU")


@dataclass
class Run:
    """One benchmark run as main() sets it up from the options."""

    title: str
    cases: list[tuple[int, int]]
    names: list[str]
    rounds: int
    settings: Settings
    forwarders: dict[str, Forwarder]
    started: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def from_arguments(
        cls,
        title: str,
        parser: argparse.ArgumentParser,
        args: argparse.Namespace,
        forwarders: dict[str, Forwarder],
        all_cases: list[tuple[int, int]],
        quick_cases: list[tuple[int, int]],
        default_rounds: int = 3,
    ) -> Run:
        names = [n.strip() for n in args.forwarders.split(",") if n.strip()]
        unknown = [n for n in names if n not in forwarders]
        if unknown:
            parser.error(f"unknown forwarders {unknown}; known: {', '.join(forwarders)}")
        settings = Settings(
            warmup=args.warmup if args.warmup is not None else (0.2 if args.quick else 0.7),
            window=args.window if args.window is not None else (0.5 if args.quick else 1.5),
            credit=args.credit,
            burst=args.burst,
            pin=args.pin,
        )
        return cls(
            title,
            args.cases or (quick_cases if args.quick else all_cases),
            names,
            args.rounds or (1 if args.quick else default_rounds),
            settings,
            forwarders,
        )

    def measure(self) -> list[dict]:
        """Every row of every case, --rounds times interleaved (the order reversed every other round, so
        that no row always follows the same one); the median round of each row."""
        binaries = build()
        self.started = time.time()
        self.load_before = os.getloadavg()
        forwarder_cpus, helper_cpus = cpus(self.settings.pin)
        print(
            f"{self.title}: {len(self.cases)} cases x {len(self.names)} forwarders x {self.rounds} rounds, "
            f"{self.settings.warmup} s warm-up + {self.settings.window} s window each; "
            f"forwarder on CPUs {sorted(forwarder_cpus) if forwarder_cpus else 'any'}, generator and sink on "
            f"{sorted(helper_cpus) if helper_cpus else 'any'}; load average {self.load_before[0]:.2f}"
        )
        width = max(len(n) for n in self.names)
        for name in self.names:
            print(f"  {name:<{width}} {self.forwarders[name].description}")

        rows: dict[tuple[str, int, int], list[dict]] = {}
        for round_ in range(self.rounds):
            for fanout, size in self.cases:
                order = self.names if round_ % 2 == 0 else self.names[::-1]
                for name in order:  # interleaved, so background load hits every row alike
                    row = run_case(self.forwarders[name], fanout, size, self.settings, binaries)
                    rows.setdefault((name, fanout, size), []).append(row)
                    status = (
                        row["error"].splitlines()[0]
                        if "error" in row
                        else f"{row['output_pps']:,.0f} pps, {row['forwarder_cpu_percent']:.0f}% CPU"
                    )
                    print(
                        f"  [{round_ + 1}/{self.rounds}] fan-out {fanout:>2}, {size:>4} B, {name:<{width}} {status}",
                        flush=True,
                    )
        return [median_row(rows[(name, fanout, size)]) for fanout, size in self.cases for name in self.names]

    def finish(
        self, benchmark: str, argv: list[str] | None, results: list[dict], extra: dict, json_path: str | None
    ) -> tuple[float, float, float]:
        """Prints the closing line (time, load) and writes the JSON report; returns the load after."""
        load_after = os.getloadavg()
        print(
            f"{time.time() - self.started:.0f} s; load average {self.load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after (other processes on this machine make figures noisy)"
        )
        if json_path:
            report = {
                "benchmark": benchmark,
                "command": " ".join(
                    ["python", "-m", f"bench.{benchmark}", *(argv if argv is not None else sys.argv[1:])]
                ),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_average_before": self.load_before,
                    "load_average_after": load_after,
                },
                "settings": {
                    **vars(self.settings),
                    "rounds": self.rounds,
                    "cases": self.cases,
                    "forwarders": self.names,
                },
                "forwarders": {n: self.forwarders[n].description for n in self.names},
                "results": results,
                **extra,
            }
            Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
        return load_after
