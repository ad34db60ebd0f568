"""What a link really carries: UDP datagrams offered from this namespace to a receiver in another one
(netns) at a set rate, and the rate at which they arrive. A harness checks its own shaping with it
before a test relies on the shaping."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from netns import Namespace

DATAGRAM = 1200
"""Bytes of payload per datagram: a media packet's size."""

RECEIVER = """
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 0))
print(sock.getsockname()[1], flush=True)
window = float(sys.argv[2])
sock.settimeout(10)
sock.recv(65536)
start, received = time.monotonic(), 0
while (left := start + window - time.monotonic()) > 0:
    sock.settimeout(left)
    try:
        received += len(sock.recv(65536))
    except TimeoutError:
        break
print(received, flush=True)
"""


def received_kbit(ns: Namespace, *, offered_kbit: int = 3000, window: float = 2.0) -> float:
    """The rate (kbit/s) at which datagrams sent to `ns` at `offered_kbit` arrive there, over `window`
    seconds from the first one's arrival (headers not counted)."""
    receiver = subprocess.Popen(
        [*ns.exec, sys.executable, "-c", RECEIVER, ns.address, str(window)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        payload = bytes(DATAGRAM)
        interval = DATAGRAM * 8 / (offered_kbit * 1000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            start = time.monotonic()
            sent = 0
            while receiver.poll() is None and time.monotonic() < start + window + 3:
                sock.sendto(payload, (ns.address, port))
                sent += 1
                ahead = start + sent * interval - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        received = int(receiver.communicate(timeout=10)[0].strip() or 0)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait(5)
    return received * 8 / 1000 / window
