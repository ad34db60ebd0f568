"""The plain-Python baseline: the RTP fan-out forwarder a Python user would write with asyncio.

    python -m bench.baseline.asyncio_forwarder --source PORT --dest PORT,PORT,... [--max-seconds S]

One asyncio DatagramProtocol on 127.0.0.1 (default event loop). Each datagram from 127.0.0.1:--source
that is RTP with the publisher's SSRC is copied once, and for each destination its SSRC, sequence and
timestamp are rewritten in place and the copy is sent with transport.sendto(). Prints "port N" once
bound, and its counters as one JSON line when stopped (SIGTERM, SIGINT or --max-seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import struct

INPUT_SSRC = 1111
_HEADER = struct.Struct("!HII")  # sequence, timestamp, SSRC at offset 2


class FanOut(asyncio.DatagramProtocol):
    def __init__(self, source: tuple[str, int], dests: list[int]) -> None:
        self.source = source
        # (address, SSRC, sequence offset, timestamp offset): the same consumers as the C baseline.
        self.consumers = [
            (("127.0.0.1", port), 0x50000000 + i, (i * 7919) & 0xFFFF, i * 104729) for i, port in enumerate(dests)
        ]
        self.transport: asyncio.DatagramTransport | None = None
        self.counters = {"received": 0, "forwarded": 0, "dropped": 0}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters["received"] += 1
        if addr != self.source or len(data) < 12 or data[0] >> 6 != 2:
            self.counters["dropped"] += 1
            return
        sequence, timestamp, ssrc = _HEADER.unpack_from(data, 2)
        if ssrc != INPUT_SSRC:
            self.counters["dropped"] += 1
            return
        packet = bytearray(data)
        sendto = self.transport.sendto
        for address, consumer_ssrc, sequence_offset, timestamp_offset in self.consumers:
            _HEADER.pack_into(
                packet,
                2,
                (sequence + sequence_offset) & 0xFFFF,
                (timestamp + timestamp_offset) & 0xFFFFFFFF,
                consumer_ssrc,
            )
            sendto(packet, address)
        self.counters["forwarded"] += len(self.consumers)


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set)
    dests = [int(p) for p in args.dest.split(",")]
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: FanOut(("127.0.0.1", args.source), dests), local_addr=("127.0.0.1", args.port)
    )
    print(f"port {transport.get_extra_info('sockname')[1]}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except TimeoutError:
        pass
    transport.close()
    print(json.dumps(protocol.counters), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=int, required=True, help="the publisher's UDP port on 127.0.0.1")
    parser.add_argument("--dest", required=True, help="subscribers' UDP ports on 127.0.0.1, comma-separated")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    asyncio.run(main(parser.parse_args()))
