"""A minimal WebRTC peer for engine tests: a loopback UDP socket that sends ICE checks (aioice's
STUN codec), runs our DtlsEndpoint as the other side of the handshake, and protects/unprotects
with pylibsrtp. Every wait is bounded."""

from __future__ import annotations

import asyncio
import struct

import aioice.stun as stun
from engine_wire import Peer
from pylibsrtp import Error as SrtpError
from pylibsrtp import Policy, Session

from engine.webrtc.dtls import DEFAULT_PROFILES, DtlsCertificate, DtlsEndpoint, HandshakeComplete

PEER_UFRAG = "peer"


def rtp_with_extensions(
    seq: int, ts: int, ssrc: int, extensions: dict[int, bytes], pt: int = 96, payload: bytes = b"\x03" * 60
) -> bytes:
    """RTP with RFC 8285 one-byte header extensions (id -> value, 1..16 bytes each)."""
    body = b"".join(bytes([(ext_id << 4) | (len(value) - 1)]) + value for ext_id, value in extensions.items())
    body += b"\x00" * (-len(body) % 4)
    header = struct.pack("!BBHII", 0x90, pt, seq & 0xFFFF, ts, ssrc)
    return header + struct.pack("!HH", 0xBEDE, len(body) // 4) + body + payload


class WebRtcPeer(Peer):
    """engine_wire's loopback Peer plus ICE checks, a DTLS handshake and SRTP."""

    def __init__(self, engine_address: tuple[str, int], certificate: DtlsCertificate) -> None:
        super().__init__(engine_address)
        self.certificate = certificate
        self.dtls: DtlsEndpoint | None = None
        self.keys: HandshakeComplete | None = None
        self.events: list = []
        self.tx: Session | None = None
        self.rx: Session | None = None

    async def receive(self, count: int | None = None, timeout: float = 1.0, quiet: float = 0.1) -> list[bytes]:
        # a handshake flight can pause longer than plain media: wait a little longer for quiet
        return await super().receive(count, timeout, quiet)

    async def check(self, ufrag: str, pwd: str, nominate: bool = True, timeout: float = 0.5) -> stun.Message | None:
        """One ICE connectivity check; the engine's answer, or None when it stays silent for `timeout`
        seconds (a check expected to be answered may wait longer: a loaded host is slow, not silent)."""
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        request.attributes["USERNAME"] = f"{ufrag}:{PEER_UFRAG}"
        request.attributes["PRIORITY"] = 1853824767
        request.attributes["ICE-CONTROLLING"] = 0x5EED
        if nominate:
            request.attributes["USE-CANDIDATE"] = None
        request.add_message_integrity(pwd.encode())
        self.send(bytes(request))
        for data in await self.receive(1, timeout=timeout):
            response = stun.parse_message(data)
            if response.transaction_id == request.transaction_id:
                return response
        return None

    async def handshake(
        self, role: str, fingerprints: list[tuple[str, str]], profiles=DEFAULT_PROFILES, timeout: float = 3.0
    ) -> list:
        """Runs DTLS against the engine until keys or a failure; returns our DTLS events."""
        loop = asyncio.get_running_loop()
        self.dtls = DtlsEndpoint(self.certificate, role, fingerprints, profiles)
        for datagram in self.dtls.start(loop.time()):
            self.send(datagram)
        deadline = loop.time() + timeout
        while loop.time() < deadline and not self.events:
            for data in await self.receive(timeout=0.05, quiet=0.02):
                if 20 <= data[0] <= 63:
                    out, events = self.dtls.receive(data, loop.time())
                    for datagram in out:
                        self.send(datagram)
                    self.events += events
            out, events = self.dtls.handle_timeout(loop.time())
            for datagram in out:
                self.send(datagram)
            self.events += events
        for event in self.events:
            if isinstance(event, HandshakeComplete):
                self.keys = event
                profile = int(event.profile)
                self.tx = Session(
                    Policy(key=event.local_key_salt, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
                )
                self.rx = Session(
                    Policy(key=event.remote_key_salt, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile)
                )
        return self.events

    def send_rtp(self, packet: bytes) -> None:
        assert self.tx is not None
        self.send(self.tx.protect(packet))

    async def receive_rtp(self, count: int | None = None, timeout: float = 1.0) -> list[bytes]:
        """Decrypted RTP (RTCP and anything that fails SRTP are left out)."""
        assert self.rx is not None
        out = []
        for data in await self.receive(count, timeout):
            if len(data) < 2 or not 128 <= data[0] <= 191 or 192 <= data[1] <= 223:
                continue
            try:
                out.append(self.rx.unprotect(data))
            except SrtpError:
                pass
        return out

    def close(self) -> None:
        self.sock.close()
