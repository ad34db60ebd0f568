"""A network namespace joined to this one by a veth pair, made and removed by the test itself: the
namespace plays another host, reached over IPv4 and IPv6 addresses of its own (private ranges, no
route off the machine). With `nat=True` it also sits behind a one-to-one NAT (nftables in the
namespace): a "public" IPv4 address, routed to it from here, translated to its own address."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Namespace:
    name: str
    address: str
    """Its IPv4 address on the veth pair."""
    address6: str
    """Its IPv6 address on the veth pair."""
    peer: str
    """This namespace's IPv4 address on the pair."""
    peer6: str
    public: str | None = None
    """The NAT's public address (`nat=True`), translated to `address`."""
    device: str = ""
    """Its end of the veth pair (inside the namespace): where a test shapes what leaves it."""
    host_device: str = ""
    """This namespace's end of the pair: where a test shapes what goes to the namespace."""

    @property
    def exec(self) -> tuple[str, ...]:
        """The command prefix that runs a program in the namespace."""
        return ("ip", "netns", "exec", self.name)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def nat_translated(ns: Namespace) -> int:
    """Packets that came to the NAT's public address so far (translated: nothing listens there)."""
    listing = subprocess.run(
        [*ns.exec, "nft", "list", "chain", "ip", "podium", "seen"],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return int(listing.split("counter packets ")[1].split()[0])


@contextlib.contextmanager
def namespace(*, nat: bool = False) -> Iterator[Namespace]:
    in_use = subprocess.run(["ip", "-o", "addr"], check=True, capture_output=True, text=True, timeout=10).stdout
    tag = secrets.token_hex(3)
    while f"10.213.{int(tag[:2], 16)}." in in_use:  # another namespace of a test holds that network
        tag = secrets.token_hex(3)
    name, outside, inside = f"podium-{tag}", f"pdm{tag}h", f"pdm{tag}n"
    octet, block = int(tag[:2], 16), int(tag[:4], 16)
    ns = Namespace(
        name,
        f"10.213.{octet}.2",
        f"fd00:213:{block:x}::2",
        f"10.213.{octet}.1",
        f"fd00:213:{block:x}::1",
        f"10.214.{octet}.2" if nat else None,
        inside,
        outside,
    )
    _ip("netns", "add", name)
    try:
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", name)
        _ip("addr", "add", f"{ns.peer}/24", "dev", outside)
        _ip("addr", "add", f"{ns.peer6}/64", "dev", outside, "nodad")
        _ip("link", "set", outside, "up")
        _ip("-n", name, "addr", "add", f"{ns.address}/24", "dev", inside)
        _ip("-n", name, "addr", "add", f"{ns.address6}/64", "dev", inside, "nodad")
        _ip("-n", name, "link", "set", inside, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        if ns.public is not None:
            _ip("route", "add", f"{ns.public}/32", "via", ns.address, "dev", outside)
            rules = (
                "table ip podium {\n"
                "  chain seen {\n"  # every packet to the public address (the NAT chain sees a flow's first)
                "    type filter hook prerouting priority raw;\n"
                f"    ip daddr {ns.public} counter\n"
                "  }\n"
                "  chain prerouting {\n"
                "    type nat hook prerouting priority dstnat;\n"
                f"    ip daddr {ns.public} dnat to {ns.address}\n"
                "  }\n"
                "}\n"
            )
            subprocess.run([*ns.exec, "nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)
        yield ns
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            _ip("link", "del", outside)  # takes its peer with it
        _ip("netns", "del", name)


@contextlib.contextmanager
def random_loss(ns: Namespace, port: int, percent: int) -> Iterator[Callable[[], int]]:
    """Drops `percent` % of the UDP datagrams the namespace sends to `port`, at random; every other
    flow passes. With tc netem (a prio band and a u32 filter on the destination port) where the
    kernel has it, else an nftables rule (`numgen random`) with the same effect. Yields a function
    giving the datagrams dropped so far."""
    tc = [*ns.exec, "tc"]
    netem = [
        [*tc, "qdisc", "add", "dev", ns.device, "root", "handle", "1:", "prio"],
        [*tc, "qdisc", "add", "dev", ns.device, "parent", "1:3", "handle", "30:", "netem", "loss", f"{percent}%"],
        [*tc, "filter", "add", "dev", ns.device, "protocol", "ip", "parent", "1:0", "prio", "3", "u32",
         "match", "ip", "protocol", "17", "0xff", "match", "ip", "dport", str(port), "0xffff", "flowid", "1:3"],
    ]  # fmt: skip
    try:
        for command in netem:
            subprocess.run(command, check=True, capture_output=True, timeout=10)
    except subprocess.CalledProcessError:  # no sch_netem / sch_prio in this kernel
        subprocess.run([*tc, "qdisc", "del", "dev", ns.device, "root"], capture_output=True, timeout=10)
        rules = (
            "table ip podium_loss {\n  chain out {\n    type filter hook output priority 0;\n"
            f"    udp dport {port} numgen random mod 100 < {percent} counter drop\n  }}\n}}\n"
        )
        subprocess.run([*ns.exec, "nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)
        try:
            yield lambda: _nft_dropped(ns)
        finally:
            subprocess.run([*ns.exec, "nft", "delete", "table", "ip", "podium_loss"], capture_output=True, timeout=10)
        return
    try:
        yield lambda: _netem_dropped(ns)
    finally:
        subprocess.run([*tc, "qdisc", "del", "dev", ns.device, "root"], capture_output=True, timeout=10)


def _netem_dropped(ns: Namespace) -> int:
    listing = subprocess.run(
        [*ns.exec, "tc", "-s", "qdisc", "show", "dev", ns.device], check=True, capture_output=True, text=True
    ).stdout
    return int(listing[listing.index("qdisc netem") :].split("dropped ")[1].split(",")[0])


def _nft_dropped(ns: Namespace) -> int:
    listing = subprocess.run(
        [*ns.exec, "nft", "list", "table", "ip", "podium_loss"], check=True, capture_output=True, text=True
    ).stdout
    return int(listing.split("counter packets ")[1].split()[0])


@dataclass
class RateLimit:
    """A cap on what goes to a namespace (`rate_limit`), and how it is applied."""

    ns: Namespace
    kbit: int
    how: str
    """"tbf" (tc's token bucket on this side's end of the pair) or "nftables" (a `limit rate` rule)."""
    on: bool = True

    def lift(self) -> None:
        """Removes the cap now (idempotent): the link is as fast as the machine again."""
        if not self.on:
            return
        self.on = False
        if self.how == "tbf":
            subprocess.run(["tc", "qdisc", "del", "dev", self.ns.host_device, "root"], capture_output=True, timeout=10)
        else:
            subprocess.run(
                [*self.ns.exec, "nft", "delete", "table", "netdev", "podium_cap"], capture_output=True, timeout=10
            )


@contextlib.contextmanager
def rate_limit(ns: Namespace, kbit: int, *, how: str = "tbf") -> Iterator[RateLimit]:
    """Caps what this namespace sends to `ns` (what a server here sends to a client there) at `kbit`
    kbit/s; what `ns` sends back is not capped. With tc's token bucket (tbf: a 4 kB burst and at most
    100 ms queued, beyond that packets are dropped, as at a real bottleneck) on the egress of this
    side's end of the pair where the kernel has it (it lacks netem), else an nftables rule on the
    ingress of the namespace's end dropping what exceeds the rate (no queue, and looser: up to 1.3
    times the rate gets through a tenfold overload; a drop on this side's output would fail the
    sender's sendmsg with EPERM, which no real link does). Removed on exit, whatever happens (`lift`
    removes it before)."""
    assert ns.host_device, "a namespace made by namespace()"
    cap = RateLimit(ns, kbit, how)
    if how == "tbf":
        added = subprocess.run(
            ["tc", "qdisc", "add", "dev", ns.host_device, "root", "tbf",
             "rate", f"{kbit}kbit", "burst", "4kb", "latency", "100ms"],
            capture_output=True, timeout=10,
        )  # fmt: skip
        if added.returncode != 0:  # no sch_tbf in this kernel
            cap.how = "nftables"
    if cap.how == "nftables":
        rules = (
            "table netdev podium_cap {\n  chain in {\n"
            f'    type filter hook ingress device "{ns.device}" priority 0;\n'
            f"    limit rate over {kbit * 1000 // 8} bytes/second burst 4096 bytes drop\n  }}\n}}\n"
        )
        subprocess.run(
            [*ns.exec, "nft", "-f", "-"], input=rules, text=True, check=True, capture_output=True, timeout=10
        )
    try:
        yield cap
    finally:
        cap.lift()
