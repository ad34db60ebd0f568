"""The peer benchmark's media from a compiled sender (bench/baseline/meeting_media.c) over the sockets
aiortc opened: aiortc keeps ICE and DTLS, the C program sends and receives the media.

For every published stream it passes the C program the stream's socket (the nominated ICE pair's,
inherited by fd), the SFU's address and the outbound SRTP key; for every subscriber transport its
socket and inbound key. The keys are re-derived from the DTLS session as aiortc derived them (RFC 5764
key export), so the SFU sees the same SRTP context it negotiated. This process stops reading the
subscriber sockets (asyncio's reader is removed) and the C program reads them instead; what is not
RTP there (STUN consent checks, DTLS, SRTCP) comes back through a local relay socket and is handed to
aioice as if its own socket had read it, so ICE and RTCP carry on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from aiortc import rtcdtlstransport

from bench import srtp
from bench.baseline.build import build

from .browser_sdp import transport_cc_id
from .media import Stream

_RELAY_HEADER = struct.Struct(">I4sH")
GENERATOR_NICE = -10
STATS_LIMIT = 1 << 24
"""Bytes of one stats line the driver accepts (latency buckets and per-pair counts)."""
STATS_TIMEOUT = 30.0
"""Seconds to wait for a stats line (a heavily loaded machine can starve this process for seconds)."""
RECEIVE_MODES = ("tick", "wake")
"""How the C program reads the subscribers' sockets (meeting_media.c: the tick, or --wake)."""


def srtp_keys(dtls: Any) -> tuple[int, bytes, bytes]:
    """(libsrtp profile, outbound master key ‖ salt, inbound key ‖ salt) of a connected aiortc DTLS
    transport, exported as aiortc's own _setup_srtp does."""
    name = dtls._ssl.get_selected_srtp_profile()
    profile = next(p for p in _all_profiles() if p.openssl_profile == name)
    view = dtls._ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (profile.key_length + profile.salt_length))
    client_key, server_key = profile.get_key_and_salt(view, 0), profile.get_key_and_salt(view, 1)
    if dtls._role == "server":
        return profile.libsrtp_profile, server_key, client_key
    return profile.libsrtp_profile, client_key, server_key


def _all_profiles() -> list[Any]:
    return [v for v in vars(rtcdtlstransport).values() if isinstance(v, rtcdtlstransport.SRTPProtectionProfile)]


def nominated(dtls: Any) -> tuple[Any, tuple[str, int]]:
    """(the aioice protocol, the SFU's address) of the transport's nominated ICE pair."""
    pair = dtls.transport._connection._nominated[1]
    return pair.protocol, pair.remote_addr


class _Relay(asyncio.DatagramProtocol):
    """Datagrams the C program read on a subscriber socket but did not consume: to that socket's aioice protocol."""

    def __init__(self, protocols: list[Any]) -> None:
        self.protocols = protocols
        self.delivered = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        slot, ip, port = _RELAY_HEADER.unpack_from(data)
        self.protocols[slot].datagram_received(data[_RELAY_HEADER.size :], (socket.inet_ntoa(ip), port))
        self.delivered += 1


@dataclass
class CompiledMedia:
    process: asyncio.subprocess.Process
    relay: asyncio.DatagramTransport
    streams: list[Stream]
    receivers: list[int]
    """The participant index of each subscriber socket, in the C program's order."""
    stolen: list[tuple[Any, int]] = field(default_factory=list)
    """(asyncio transport, fd) whose reading moved to the C program."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls,
        streams: list[Stream],
        receivers: list[tuple[int, Any, Any]],
        video_bitrate: int,
        drop_per_mille: int = 0,
        max_seconds: int = 600,
        receive: str = "tick",
    ) -> CompiledMedia:
        """Starts sending every stream's media; `receivers`: (participant index, connected DTLS
        transport, its peer connection); `drop_per_mille`: first copies discarded on arrival;
        `receive`: "tick" reads the subscribers' sockets on the sender's 1 ms tick, "wake" waits on
        them in epoll (each delivery then wakes the C program, at the sending SFU's expense)."""
        if receive not in RECEIVE_MODES:
            raise ValueError(f"receive must be one of {RECEIVE_MODES}, not {receive!r}")
        binary = (await asyncio.to_thread(build))["meeting_media"]
        loop = asyncio.get_running_loop()
        protocols = []
        lines = []
        fds = set()
        profiles = set()
        for stream in streams:
            protocol, (ip, port) = nominated(stream.dtls)
            profile, tx, _ = srtp_keys(stream.dtls)
            profiles.add(profile)
            fd = protocol.transport.get_extra_info("socket").fileno()
            fds.add(fd)
            lines.append(
                f"send {fd} {ip} {port} {stream.ssrc} {stream.payload_type} {stream.kind} {stream.publisher} "
                f"{stream.layer} {video_bitrate // stream.share} {tx.hex()}"
            )
        stolen = []
        for index, dtls, pc in receivers:
            protocol, _ = nominated(dtls)
            profile, tx, rx = srtp_keys(dtls)
            profiles.add(profile)
            fd = protocol.transport.get_extra_info("socket").fileno()
            fds.add(fd)
            protocols.append(protocol)
            twcc = transport_cc_id(pc.remoteDescription.sdp) if pc.remoteDescription else 0
            lines.append(f"recv {fd} {index} {rx.hex()} {tx.hex()} {twcc}")
            stolen.append((protocol.transport, fd))
        if len(profiles) != 1:
            raise RuntimeError(f"transports negotiated different SRTP profiles: {profiles}")
        relay, _ = await loop.create_datagram_endpoint(lambda: _Relay(protocols), local_addr=("127.0.0.1", 0))
        process = await asyncio.create_subprocess_exec(
            str(binary),
            "--libsrtp",
            srtp.libsrtp_path(),
            "--profile",
            str(profiles.pop()),
            "--relay",
            str(relay.get_extra_info("sockname")[1]),
            "--drop-per-mille",
            str(drop_per_mille),
            "--max-seconds",
            str(max_seconds),
            *(["--wake"] if receive == "wake" else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            pass_fds=sorted(fds),
            limit=STATS_LIMIT,
        )
        # a higher priority where allowed (root): other processes on a shared machine then delay its ticks
        # less; the same for both SFUs
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, process.pid, GENERATOR_NICE)
        for _, fd in stolen:
            loop._remove_reader(fd)  # type: ignore[attr-defined]  # the C program reads it now
        media = cls(process, relay, streams, [index for index, _, _ in receivers], stolen)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(("\n".join(lines) + "\nstart\n").encode())
        await process.stdin.drain()
        async with asyncio.timeout(10):
            line = await process.stdout.readline()
        if not line.startswith(b"started"):
            await media.stop()
            raise RuntimeError(f"meeting_media did not start: {line!r}")
        return media

    async def stats(self) -> dict[str, Any]:
        """Cumulative counters: sent and send_errors per stream (in `streams` order), received as
        {(receiver, publisher, kind): packets}, layers as {(receiver, publisher, layer): video packets},
        latency as {10 µs bucket: packets}, ticks, late, twcc_feedbacks, nacks_sent, repaired, ..."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"stats\n")
        await self.process.stdin.drain()
        async with asyncio.timeout(STATS_TIMEOUT):
            raw = json.loads(await self.process.stdout.readline())
        received: dict[tuple[int, int, int], int] = {}
        for r, p, k, _, n in raw["received"]:
            received[(r, p, k)] = received.get((r, p, k), 0) + n
        raw["layers"] = {(r, p, layer): n for r, p, k, layer, n in raw["received"] if k == 1}
        raw["received"] = received
        raw["latency_10us"] = dict((b, n) for b, n in raw["latency_10us"])
        return raw

    async def pause(self) -> None:
        """Stops sending (receiving goes on)."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"pause\n")
        await self.process.stdin.drain()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            async with asyncio.timeout(10):
                await self.process.wait()
        self.relay.close()
        loop = asyncio.get_running_loop()
        for transport, fd in self.stolen:  # aiortc reads its sockets again (for a clean close)
            if not transport.is_closing():
                loop._add_reader(fd, transport._read_ready)  # type: ignore[attr-defined]


def latency_percentiles(histogram: dict[int, int], quantiles: tuple[float, ...] = (0.5, 0.99)) -> list[float | None]:
    """Milliseconds at each quantile of a {10 µs bucket: packets} histogram (bucket upper edges)."""
    total = sum(histogram.values())
    if not total:
        return [None] * len(quantiles)
    out = []
    for q in quantiles:
        rank, seen = q * total, 0
        for bucket in sorted(histogram):
            seen += histogram[bucket]
            if seen >= rank:
                out.append((bucket + 1) * 0.01)
                break
    return out
