"""coturn (Debian's `turnserver`) for tests: on loopback, ports chosen free, configured for the TURN
REST API's shared secret (the configuration docs/deployment.md describes), stopped at the end."""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REALM = "podium.test"
START_TIMEOUT = 10.0


@dataclass
class Coturn:
    port: int
    secret: str
    log: Path
    relay_ports: range

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_udp_range(size: int) -> range:
    """`size` consecutive UDP ports free on 127.0.0.1 right now (the relay ports coturn allocates)."""
    for _ in range(200):
        start = random.randrange(40000, 60000 - size)
        probes = []
        try:
            for port in range(start, start + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(sock)
                sock.bind(("127.0.0.1", port))
            return range(start, start + size)
        except OSError:
            continue
        finally:
            for sock in probes:
                sock.close()
    raise RuntimeError("no free range of UDP ports for coturn's relays")


@contextlib.contextmanager
def coturn(directory: Path, secret: str) -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    if binary is None:
        raise RuntimeError("coturn's turnserver is missing: run scripts/install-test-deps.sh (Debian package coturn)")
    port, relays = _free_udp_port(), _free_udp_range(20)
    log = directory / "turnserver.log"
    config = directory / "turnserver.conf"
    config.write_text(
        "\n".join(
            [
                "listening-ip=127.0.0.1",
                f"listening-port={port}",
                "relay-ip=127.0.0.1",
                f"min-port={relays.start}",
                f"max-port={relays.stop - 1}",
                f"realm={REALM}",
                "use-auth-secret",
                f"static-auth-secret={secret}",
                "fingerprint",
                # the worker is a loopback peer here; a deployment keeps coturn's default (refused)
                "allow-loopback-peers",
                "no-multicast-peers",
                "no-tls",
                "no-dtls",
                "no-tcp",
                "no-rfc5780",
                "no-cli",
                "no-software-attribute",
                f"userdb={directory / 'turndb'}",
                f"pidfile={directory / 'turnserver.pid'}",
                f"log-file={log}",
                "simple-log",
                "verbose",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [binary, "-c", str(config), "--no-stdout-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "listener opened on" not in (log.read_text(errors="replace") if log.exists() else ""):
            if process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"turnserver did not start ({process.poll()}): {text[-3000:]}")
            time.sleep(0.05)
        yield Coturn(port, secret, log, relays)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
