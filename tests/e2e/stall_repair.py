"""What a browser's video receiver does after a loss that retransmission did not repair, and aiortc's
does not: give up the missing packets and ask the publisher for a keyframe (PLI, RFC 4585 6.3.1).

aiortc's jitter buffer waits for a missing packet until 512 newer ones have arrived (nearly a minute
of the test's small video) and only then asks for a keyframe. After a network outage, a packet the
publisher no longer retransmits (seen with Chromium after a 3 s outage: one packet of thirty) would
leave an aiortc subscriber without video for that long: `repair_stalls` makes it skip the missing
packets after STALL seconds and send the PLI, which the engine relays to the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

STALL = 1.0  # seconds a video receiver may wait for a missing packet before it gives it up
PERIOD = 0.25


def _past_the_holes(buffer: Any) -> int | None:
    """How far past its origin the buffer must skip to leave every missing packet behind (the offset
    of the first packet after the last hole before its newest packet); None: it misses nothing."""
    if buffer._origin is None:
        return None
    held = [buffer._packets[(buffer._origin + i) % buffer.capacity] is not None for i in range(buffer.capacity)]
    newest = max((i for i, present in enumerate(held) if present), default=0)
    holes = [i for i in range(newest) if not held[i]]
    return holes[-1] + 1 if holes else None


def _skip(buffer: Any, count: int) -> int:
    """Drops `count` packets (held or missing) from the buffer's origin; the SSRC of the next one."""
    buffer.remove(count)
    return buffer._packets[buffer._origin % buffer.capacity].ssrc


async def repair_stalls(subscribe_connection: Callable[[], Any]) -> None:
    """Runs until cancelled, over the video receivers of `subscribe_connection()` (None: none now)."""
    stalled: dict[int, float] = {}
    while True:
        await asyncio.sleep(PERIOD)
        pc = subscribe_connection()
        if pc is None:
            continue
        now = time.monotonic()
        for transceiver in pc.getTransceivers():
            receiver = transceiver.receiver
            buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
            skip = _past_the_holes(buffer) if transceiver.kind == "video" and buffer is not None else None
            if skip is None:
                stalled.pop(id(receiver), None)
                continue
            if now - stalled.setdefault(id(receiver), now) < STALL:
                continue
            stalled.pop(id(receiver))
            ssrc = _skip(buffer, skip)
            with contextlib.suppress(Exception):
                await receiver._send_rtcp_pli(ssrc)
