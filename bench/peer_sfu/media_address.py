"""A media address both SFUs use, on a veth pair the benchmark creates and removes.

Janus gathers no loopback ICE candidate (libnice skips `lo`), so loopback is not a choice. One end of
a veth pair with one address gives both SFUs and the aiortc peers the same non-loopback address; the
kernel delivers traffic to a local address locally, so neither SFU gets a cheaper path than the other.
(A veth pair rather than a dummy interface: not every kernel has the dummy driver.)"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

INTERFACE = "pdmbench0"
PEER = "pdmbench1"
ADDRESS = "10.254.77.1"


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, timeout=10)


@contextlib.contextmanager
def media_address() -> Iterator[str]:
    """Creates the veth pair INTERFACE–PEER with ADDRESS/32 (root needed), yields ADDRESS, removes the interface."""
    if os.geteuid() != 0:
        raise PermissionError("the benchmark creates a dummy network interface: run it as root")
    _ip("link", "del", INTERFACE, check=False)  # left over from a run that was killed
    _ip("link", "add", INTERFACE, "type", "veth", "peer", "name", PEER)
    try:
        _ip("addr", "add", f"{ADDRESS}/32", "dev", INTERFACE)
        _ip("link", "set", INTERFACE, "up")
        _ip("link", "set", PEER, "up")
        yield ADDRESS
    finally:
        _ip("link", "del", INTERFACE, check=False)
