"""Test helpers for the engine: RTP/RTCP builders and UDP peers on loopback."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass

RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_RTPFB, RTCP_PSFB = 200, 201, 202, 203, 205, 206


def rtp(seq: int, ts: int, ssrc: int, pt: int = 96, payload: bytes = b"\x01" * 100, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def rtp_with_extension(seq: int, ts: int, ssrc: int, pt: int = 96, payload: bytes = b"\x02" * 40) -> bytes:
    # one-byte header extension (RFC 8285): id 1, 3 bytes (e.g. abs-send-time), padded to 4
    ext = struct.pack("!HH", 0xBEDE, 1) + bytes([0x12, 0xAA, 0xBB, 0xCC])
    return struct.pack("!BBHII", 0x90, pt, seq, ts, ssrc) + ext + payload


def sr(ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int, blocks: int = 0) -> bytes:
    body = struct.pack("!IQIII", ssrc, ntp, rtp_ts, packets, octets) + b"\x00" * (24 * blocks)
    return struct.pack("!BBH", 0x80 | blocks, RTCP_SR, len(body) // 4) + body


def rr(ssrc: int, source: int) -> bytes:
    block = struct.pack("!IIIIII", source, 0, 0, 0, 0, 0)
    return struct.pack("!BBHI", 0x81, RTCP_RR, 7, ssrc) + block


def sdes_cname(ssrc: int, cname: bytes = b"peer") -> bytes:
    chunk = struct.pack("!I", ssrc) + bytes([1, len(cname)]) + cname + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    return struct.pack("!BBH", 0x81, RTCP_SDES, len(chunk) // 4) + chunk


def pli(sender: int, media: int) -> bytes:
    return struct.pack("!BBHII", 0x81, RTCP_PSFB, 2, sender, media)


def fir(sender: int, target: int, seq: int) -> bytes:
    return struct.pack("!BBHIIIB3x", 0x84, RTCP_PSFB, 4, sender, 0, target, seq)


def nack(sender: int, media: int, items: list[tuple[int, int]]) -> bytes:
    fci = b"".join(struct.pack("!HH", pid, blp) for pid, blp in items)
    return struct.pack("!BBHII", 0x81, RTCP_RTPFB, 2 + len(items), sender, media) + fci


def remb(sender: int, bitrate_exp: int, bitrate_mantissa: int, ssrcs: list[int]) -> bytes:
    body = struct.pack("!II", sender, 0) + b"REMB"
    body += bytes([len(ssrcs), (bitrate_exp << 2) | (bitrate_mantissa >> 16)]) + struct.pack(
        "!H", bitrate_mantissa & 0xFFFF
    )
    body += b"".join(struct.pack("!I", s) for s in ssrcs)
    return struct.pack("!BBH", 0x8F, RTCP_PSFB, len(body) // 4) + body


def stun_binding_request() -> bytes:
    return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + b"\x00" * 12


@dataclass
class Rtp:
    marker: bool
    pt: int
    seq: int
    ts: int
    ssrc: int
    payload: bytes


def parse_rtp(data: bytes) -> Rtp:
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        offset += 4 + 4 * struct.unpack("!H", data[offset + 2 : offset + 4])[0]
    return Rtp(bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc, data[offset:])


def is_rtcp(data: bytes) -> bool:
    return len(data) >= 2 and 192 <= data[1] <= 223


class Peer:
    """A UDP endpoint on loopback playing a publisher or a subscriber."""

    def __init__(self, engine_address: tuple[str, int], host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self.engine_address = engine_address

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.engine_address)

    def _read(self) -> bytes | None:
        try:
            return self.sock.recv(4096)
        except BlockingIOError:
            return None

    async def receive(self, count: int | None = None, timeout: float = 1.0, quiet: float = 0.05) -> list[bytes]:
        """Datagrams received until `count` arrived (or, without a count, until `quiet` seconds
        pass with nothing new), giving up after `timeout` seconds."""
        out: list[bytes] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < deadline:
            data = self._read()
            if data is not None:
                out.append(data)
                last = time.monotonic()
                if count is not None and len(out) >= count:
                    break
                continue
            if count is None and time.monotonic() - last >= quiet:
                break
            await asyncio.sleep(0.002)
        return out

    async def receive_rtp(self, count: int | None = None, timeout: float = 1.0) -> list[Rtp]:
        return [parse_rtp(d) for d in await self.receive(count, timeout) if not is_rtcp(d)]

    def close(self) -> None:
        self.sock.close()


def split_rtcp(data: bytes) -> list[tuple[int, int, bytes]]:
    """(packet type, count/FMT, packet bytes) of each packet of a compound."""
    out = []
    while data:
        length = 4 * (struct.unpack("!H", data[2:4])[0] + 1)
        out.append((data[1], data[0] & 0x1F, data[:length]))
        data = data[length:]
    return out
