"""DTLS-SRTP: our endpoint against itself, against a plain pyOpenSSL peer written here, and against
aiortc's whole stack (ICE, DTLS, SRTP) over loopback UDP; keys are checked through libsrtp."""

from __future__ import annotations

import asyncio
import struct

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcdtlstransport import RTCCertificate
from OpenSSL import SSL, crypto
from pylibsrtp import Policy, Session

from control.meetings.sdp import TransportParameters, answer_offer
from engine.webrtc.dtls import (
    DEFAULT_PROFILES,
    INITIAL_RETRANSMIT,
    MAX_RETRANSMISSIONS,
    Closed,
    DtlsCertificate,
    DtlsEndpoint,
    DtlsState,
    FingerprintMismatch,
    HandshakeComplete,
    HandshakeFailed,
    SrtpProfile,
    certificate_fingerprint,
    split_records,
)
from engine.webrtc.ice import IceLite, is_stun

RTP = struct.pack("!BBHII", 0x80, 96, 1, 3000, 0xCAFE) + b"payload" * 10


# -- helpers ----------------------------------------------------------------------------------------


def srtp_pair(sender: HandshakeComplete, receiver_key: bytes, receiver_salt: bytes, profile: int):
    tx = Session(
        Policy(key=sender.local_key + sender.local_salt, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
    )
    rx = Session(Policy(key=receiver_key + receiver_salt, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
    return tx, rx


def assert_srtp_works(a: HandshakeComplete, b: HandshakeComplete) -> None:
    """a's outbound keys are b's inbound keys and the other way round, as libsrtp sees them."""
    assert a.profile == b.profile
    for sender, receiver in ((a, b), (b, a)):
        tx, rx = srtp_pair(sender, receiver.remote_key, receiver.remote_salt, int(a.profile))
        protected = tx.protect(RTP)
        assert protected != RTP
        assert rx.unprotect(protected) == RTP


def exchange(
    a: DtlsEndpoint,
    b: DtlsEndpoint,
    first: list[bytes],
    now: float = 0.0,
    drop=lambda sender, datagram: False,
) -> tuple[list, list]:
    """Deliver datagrams back and forth until both sides are quiet; return each side's events."""
    events_a: list = []
    events_b: list = []
    to_b = first
    for _ in range(20):
        to_a: list[bytes] = []
        for datagram in to_b:
            if drop("a", datagram):
                continue
            out, events = b.receive(datagram, now)
            to_a += out
            events_b += events
        to_b = []
        for datagram in to_a:
            if drop("b", datagram):
                continue
            out, events = a.receive(datagram, now)
            to_b += out
            events_a += events
        if not to_b:
            break
    return events_a, events_b


@pytest.fixture(scope="module")
def certs():
    return DtlsCertificate.generate(), DtlsCertificate.generate()


def endpoints(certs, client_profiles=DEFAULT_PROFILES, server_profiles=DEFAULT_PROFILES):
    server_cert, client_cert = certs
    server = DtlsEndpoint(server_cert, "server", client_cert.fingerprints(), server_profiles)
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints(), client_profiles)
    return server, client


# -- our endpoint against itself -------------------------------------------------------------------


def test_certificate_and_fingerprint(certs):
    cert = certs[0]
    assert cert.cert.to_cryptography().public_key().curve.name == "secp256r1"
    fingerprint = cert.fingerprint()
    assert len(fingerprint) == 32 * 3 - 1 and fingerprint == fingerprint.upper()
    assert cert.fingerprints() == [("sha-256", fingerprint)]
    with pytest.raises(ValueError, match="unsupported fingerprint algorithm"):
        certificate_fingerprint(b"x", "md5")


def test_handshake_exports_matching_keys(certs):
    server, client = endpoints(certs)
    assert server.start(0.0) == []
    client_events, server_events = exchange(client, server, client.start(0.0))
    assert [type(e) for e in server_events] == [HandshakeComplete]
    assert [type(e) for e in client_events] == [HandshakeComplete]
    s, c = server_events[0], client_events[0]
    assert s.profile is SrtpProfile.AEAD_AES_128_GCM  # preferred
    assert (len(s.local_key), len(s.local_salt)) == (16, 12)
    assert s.local_key == c.remote_key and s.local_salt == c.remote_salt
    assert s.remote_key == c.local_key and s.remote_salt == c.local_salt
    assert s.local_key != s.remote_key
    assert s.local_key_salt == s.local_key + s.local_salt == c.remote_key_salt
    assert_srtp_works(s, c)
    assert server.state is client.state is DtlsState.CONNECTED
    assert server.next_timeout() is None and client.next_timeout() is None


@pytest.mark.parametrize(
    "profile, salt_length",
    [(SrtpProfile.AES128_CM_HMAC_SHA1_80, 14), (SrtpProfile.AES128_CM_HMAC_SHA1_32, 14)],
)
def test_other_profiles(certs, profile, salt_length):
    server, client = endpoints(certs, client_profiles=[profile])
    client_events, server_events = exchange(client, server, client.start(0.0))
    s, c = server_events[0], client_events[0]
    assert s.profile is c.profile is profile
    assert (len(s.local_key), len(s.local_salt)) == (16, salt_length)
    assert_srtp_works(s, c)


def test_no_common_profile_fails(certs):
    server, client = endpoints(
        certs,
        client_profiles=[SrtpProfile.AES128_CM_HMAC_SHA1_32],
        server_profiles=[SrtpProfile.AEAD_AES_128_GCM],
    )
    client_events, server_events = exchange(client, server, client.start(0.0))
    assert not any(isinstance(e, HandshakeComplete) for e in client_events + server_events)
    assert HandshakeFailed("no SRTP protection profile negotiated") in client_events + server_events


def test_fingerprint_mismatch_gives_no_keys(certs):
    server_cert, client_cert = certs
    stranger = DtlsCertificate.generate()
    server = DtlsEndpoint(server_cert, "server", stranger.fingerprints())
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints())
    client_events, server_events = exchange(client, server, client.start(0.0))
    assert server_events == [
        FingerprintMismatch((("sha-256", stranger.fingerprint().replace(":", "")),), client_cert.fingerprint())
    ]
    assert server.state is DtlsState.FAILED
    assert server.stats["fingerprint_mismatches"] == 1
    # The client learns through the alert; neither side exported keys.
    assert [type(e) for e in client_events] == [HandshakeFailed]
    assert client.state is DtlsState.FAILED


def test_client_checks_server_fingerprint(certs):
    server_cert, client_cert = certs
    server = DtlsEndpoint(server_cert, "server", client_cert.fingerprints())
    client = DtlsEndpoint(client_cert, "client", [("sha-256", "00:" * 31 + "00")])
    client_events, server_events = exchange(client, server, client.start(0.0))
    assert [type(e) for e in client_events] == [FingerprintMismatch]
    assert not any(isinstance(e, HandshakeComplete) for e in server_events)


def test_fingerprints_known_after_handshake(certs):
    """The subscriber's answer may reach us after its ClientHello: keys wait for the fingerprint."""
    server_cert, client_cert = certs
    server = DtlsEndpoint(server_cert, "server")
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints())
    client_events, server_events = exchange(client, server, client.start(0.0))
    assert server_events == []
    assert [type(e) for e in client_events] == [HandshakeComplete]
    (keys,) = server.set_remote_fingerprints(client_cert.fingerprints())
    assert isinstance(keys, HandshakeComplete)
    assert_srtp_works(keys, client_events[0])

    server = DtlsEndpoint(server_cert, "server")
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints())
    exchange(client, server, client.start(0.0))
    (event,) = server.set_remote_fingerprints(DtlsCertificate.generate().fingerprints())
    assert isinstance(event, FingerprintMismatch)
    assert server.state is DtlsState.FAILED


def test_fingerprint_with_other_algorithm_and_case(certs):
    server_cert, client_cert = certs
    sha512 = certificate_fingerprint(client_cert.der, "sha-512").lower()
    server = DtlsEndpoint(server_cert, "server", [("SHA-512", sha512), ("unknown-hash", "00")])
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints())
    _, server_events = exchange(client, server, client.start(0.0))
    assert [type(e) for e in server_events] == [HandshakeComplete]


def test_bad_arguments(certs):
    with pytest.raises(ValueError, match="DTLS role"):
        DtlsEndpoint(certs[0], "both")
    with pytest.raises(ValueError, match="no usable remote fingerprint"):
        DtlsEndpoint(certs[0], "server", [("md5", "00")])
    with pytest.raises(ValueError, match="at least one SRTP profile"):
        DtlsEndpoint(certs[0], "server", profiles=[])


def test_lost_flight_is_retransmitted(certs):
    server, client = endpoints(certs)
    hello = client.start(10.0)
    assert client.next_timeout() == 10.0 + INITIAL_RETRANSMIT
    # The server's first flight is lost.
    flight, events = server.receive(hello[0], 10.0)
    assert flight and events == []
    assert server.next_timeout() == 10.0 + INITIAL_RETRANSMIT
    assert server.handle_timeout(10.5) == ([], [])  # not due yet
    assert client.handle_timeout(10.5) == ([], [])
    # Both timers fire; the server's retransmission gets the handshake going again.
    again, events = client.handle_timeout(11.0)
    assert again and events == []
    assert client.next_timeout() == 11.0 + 2 * INITIAL_RETRANSMIT  # doubled
    assert client.stats["retransmissions"] == 1
    assert server.receive(again[0], 11.0) == ([], [])  # a duplicate ClientHello changes nothing
    resent, events = server.handle_timeout(11.0)
    assert resent == flight and events == []
    assert server.stats["retransmissions"] == 1
    server_events, client_events = exchange(server, client, resent, now=11.0)
    assert [type(e) for e in client_events] == [HandshakeComplete]
    assert [type(e) for e in server_events] == [HandshakeComplete]
    assert_srtp_works(server_events[0], client_events[0])
    assert server.next_timeout() is None and client.next_timeout() is None


def test_lost_final_flight_is_resent_by_completed_server(certs):
    server, client = endpoints(certs)
    hello = client.start(0.0)
    flight2, _ = server.receive(hello[0], 0.0)
    flight3: list[bytes] = []
    for datagram in flight2:
        flight3 += client.receive(datagram, 0.0)[0]
    final: list[bytes] = []
    server_events: list = []
    for datagram in flight3:
        out, events = server.receive(datagram, 0.0)
        final += out
        server_events += events
    assert [type(e) for e in server_events] == [HandshakeComplete]
    assert final and server.state is DtlsState.CONNECTED
    # The server's ChangeCipherSpec + Finished are lost: the client retransmits its flight...
    assert client.state is DtlsState.CONNECTING
    retransmitted, _ = client.handle_timeout(client.next_timeout())
    assert retransmitted
    # ... and the completed server answers with its final flight again.
    resent: list[bytes] = []
    for datagram in retransmitted:
        resent += server.receive(datagram, 1.0)[0]
    assert resent
    client_events: list = []
    for datagram in resent:
        client_events += client.receive(datagram, 1.0)[1]
    assert [type(e) for e in client_events] == [HandshakeComplete]
    assert_srtp_works(server_events[0], client_events[0])


def test_handshake_times_out(certs):
    _, client = endpoints(certs)
    client.start(0.0)
    now = 0.0
    sent = 0
    for _ in range(MAX_RETRANSMISSIONS):
        now = client.next_timeout()
        datagrams, events = client.handle_timeout(now)
        assert datagrams and events == []
        sent += 1
    assert client.next_timeout() - now == 60.0 or client.next_timeout() - now == 2**MAX_RETRANSMISSIONS
    datagrams, events = client.handle_timeout(client.next_timeout())
    assert events == [HandshakeFailed("handshake timed out")]
    assert client.state is DtlsState.FAILED
    assert client.next_timeout() is None
    assert sent == MAX_RETRANSMISSIONS


def test_close_notify(certs):
    server, client = endpoints(certs)
    exchange(client, server, client.start(0.0))
    notify = client.close()
    assert len(notify) == 1 and notify[0][0] == 21  # an alert record
    assert client.state is DtlsState.CLOSED
    answer, events = server.receive(notify[0], 1.0)
    assert events == [Closed()]
    assert server.state is DtlsState.CLOSED
    assert answer and answer[0][0] == 21  # our own close_notify back
    assert client.receive(answer[0], 1.0) == ([], [])  # already closed
    assert client.close() == [] and server.close() == []


def test_garbage_is_counted_not_raised(certs):
    server, client = endpoints(certs)
    for junk in (b"", b"\x16", b"\x16\xfe\xfd" + b"\x00" * 20, bytes(range(256))):
        out, events = server.receive(junk, 0.0)
        assert not any(isinstance(e, HandshakeComplete) for e in events)
    # A fresh endpoint still completes after garbage before the ClientHello.
    server, client = endpoints(certs)
    server.receive(b"\x17\xfe\xfd" + bytes(20), 0.0)
    _, server_events = exchange(client, server, client.start(0.0))
    assert [type(e) for e in server_events] == [HandshakeComplete]


def test_datagrams_respect_mtu(certs):
    server_cert, client_cert = certs
    server = DtlsEndpoint(server_cert, "server", client_cert.fingerprints(), mtu=300)
    client = DtlsEndpoint(client_cert, "client", server_cert.fingerprints(), mtu=300)
    hello = client.start(0.0)
    flight, _ = server.receive(hello[0], 0.0)
    assert len(flight) > 1 and all(len(d) <= 300 for d in flight)
    for datagram in flight:
        assert all(len(r) >= 13 for r in split_records(datagram))
    server_events, client_events = exchange(server, client, flight)
    assert [type(e) for e in server_events] == [HandshakeComplete]
    assert [type(e) for e in client_events] == [HandshakeComplete]


# -- against a plain pyOpenSSL peer ------------------------------------------------------------------


class PlainPeer:
    """An independent DTLS-SRTP peer: pyOpenSSL directly, aiortc's certificate, our own key split."""

    def __init__(self, role: str, profiles: bytes = b"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"):
        self.certificate = RTCCertificate.generateCertificate()
        ctx = SSL.Context(SSL.DTLS_METHOD)
        ctx.use_certificate(crypto.X509.from_cryptography(self.certificate._cert))
        ctx.use_privatekey(crypto.PKey.from_cryptography_key(self.certificate._key))
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: True)
        ctx.set_tlsext_use_srtp(profiles)
        self.ssl = SSL.Connection(ctx, None)
        if role == "client":
            self.ssl.set_connect_state()
        else:
            self.ssl.set_accept_state()
        self.role = role
        self.done = False
        self.failed: SSL.Error | None = None

    def fingerprints(self) -> list[tuple[str, str]]:
        return [(f.algorithm, f.value) for f in self.certificate.getFingerprints()]

    def step(self, data: bytes | None = None) -> list[bytes]:
        if data is not None:
            self.ssl.bio_write(data)
        if not self.done and not self.failed:
            try:
                self.ssl.do_handshake()
                self.done = True
            except SSL.WantReadError:
                pass
            except SSL.Error as exc:  # e.g. the alert our endpoint sends on a bad fingerprint
                self.failed = exc
        out = []
        while True:
            try:
                out.append(self.ssl.bio_read(65536))
            except SSL.WantReadError:
                return out

    def keys(self) -> tuple[int, bytes, bytes]:
        """(libsrtp profile, our outbound master key+salt, inbound master key+salt)."""
        name = self.ssl.get_selected_srtp_profile()
        profile, salt = {
            b"SRTP_AEAD_AES_128_GCM": (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 12),
            b"SRTP_AES128_CM_SHA1_80": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 14),
        }[name]
        m = self.ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * (16 + salt))
        client = m[:16] + m[32 : 32 + salt]
        server = m[16:32] + m[32 + salt :]
        return (profile, client, server) if self.role == "client" else (profile, server, client)


def run_against_plain(ours: DtlsEndpoint, peer: PlainPeer) -> list:
    events: list = []
    to_peer = ours.start(0.0) or []
    to_ours = peer.step() if peer.role == "client" else []
    for _ in range(20):
        for datagram in to_ours:
            out, evs = ours.receive(datagram, 0.0)
            to_peer += out
            events += evs
        to_ours = []
        for datagram in to_peer:
            to_ours += peer.step(datagram)
        to_peer = []
        if not to_ours and peer.done and ours.state is not DtlsState.CONNECTING:
            break
    return events


@pytest.mark.parametrize("our_role", ["server", "client"])
def test_against_plain_pyopenssl_peer(certs, our_role):
    peer = PlainPeer("client" if our_role == "server" else "server")
    ours = DtlsEndpoint(certs[0], our_role, peer.fingerprints())
    events = run_against_plain(ours, peer)
    (done,) = events
    assert isinstance(done, HandshakeComplete)
    assert peer.done
    profile, peer_out, peer_in = peer.keys()
    assert int(done.profile) == profile == Policy.SRTP_PROFILE_AEAD_AES_128_GCM
    # Our outbound SRTP is readable with the peer's inbound keys, and the other way round.
    tx = Session(Policy(key=done.local_key + done.local_salt, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    rx = Session(Policy(key=peer_in, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
    assert rx.unprotect(tx.protect(RTP)) == RTP
    tx = Session(Policy(key=peer_out, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    rx = Session(
        Policy(key=done.remote_key + done.remote_salt, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile)
    )
    rtcp = b"\x80\xc8\x00\x06" + bytes(24)
    assert rx.unprotect_rtcp(tx.protect_rtcp(rtcp)) == rtcp


def test_plain_peer_with_cm80_only(certs):
    peer = PlainPeer("client", profiles=b"SRTP_AES128_CM_SHA1_80")
    ours = DtlsEndpoint(certs[0], "server", peer.fingerprints())
    (done,) = run_against_plain(ours, peer)
    assert done.profile is SrtpProfile.AES128_CM_HMAC_SHA1_80
    _, _, peer_in = peer.keys()
    assert done.local_key + done.local_salt == peer_in


def test_plain_peer_with_wrong_certificate(certs):
    peer = PlainPeer("client")
    ours = DtlsEndpoint(certs[0], "server", PlainPeer("client").fingerprints())
    events = run_against_plain(ours, peer)
    assert [type(e) for e in events] == [FingerprintMismatch]
    assert not peer.done
    assert "alert" in str(peer.failed)


# -- against aiortc's whole stack over loopback -----------------------------------------------------


class EngineShim(asyncio.DatagramProtocol):
    """What the worker's slow path will do for one WebRTC transport, minus the fast path."""

    def __init__(self, ice: IceLite, dtls: DtlsEndpoint) -> None:
        self.ice, self.dtls = ice, dtls
        self.events: list = []
        self.rtp: list[bytes] = []
        self.rx: Session | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def _send(self, datagrams: list[bytes], addr) -> None:
        for datagram in datagrams:
            self.transport.sendto(datagram, addr)

    def datagram_received(self, data, addr):
        now = asyncio.get_running_loop().time()
        if is_stun(data):
            response, events = self.ice.receive(data, addr, now)
            self.events += events
            if response:
                self.transport.sendto(response, addr)
        elif not self.ice.is_trusted(addr):
            return
        elif 20 <= data[0] <= 63:
            out, events = self.dtls.receive(data, now)
            self._send(out, self.ice.nominated or addr)
            self.events += events
            for event in events:
                if isinstance(event, HandshakeComplete):
                    self.rx = Session(
                        Policy(
                            key=event.remote_key + event.remote_salt,
                            ssrc_type=Policy.SSRC_ANY_INBOUND,
                            srtp_profile=int(event.profile),
                        )
                    )
        elif 128 <= data[0] <= 191 and self.rx is not None and not 192 <= data[1] <= 223:
            self.rtp.append(self.rx.unprotect(data))

    async def timers(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.05)
            out, events = self.dtls.handle_timeout(loop.time())
            self.events += events
            if out and self.ice.nominated:
                self._send(out, self.ice.nominated)


async def test_aiortc_peer_connection_end_to_end(monkeypatch, certs):
    """aiortc offers audio, our SDP answers, our ICE-lite and DTLS serve it, its SRTP decrypts."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    loop = asyncio.get_running_loop()
    our_cert = certs[0]
    ice = IceLite("enginefrag", "enginepasswordengine0000")
    transport, shim = await loop.create_datagram_endpoint(lambda: EngineShim(ice, None), local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    timers = None
    try:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        local = TransportParameters(
            "enginefrag", "enginepasswordengine0000", our_cert.fingerprints(), [("127.0.0.1", port)]
        )
        result = answer_offer(pc.localDescription.sdp, local)
        connect = result.operations[1]
        produce = result.operations[2]
        assert connect.dtls_role == "server"
        ice.remote_ufrag = connect.remote_ice_ufrag
        shim.dtls = DtlsEndpoint(our_cert, connect.dtls_role, list(connect.remote_fingerprints))
        shim.dtls.start(loop.time())
        timers = asyncio.create_task(shim.timers())
        await pc.setRemoteDescription(RTCSessionDescription(result.answer, "answer"))

        for _ in range(500):
            if len(shim.rtp) >= 3:
                break
            await asyncio.sleep(0.01)
        assert pc.iceConnectionState == "completed"
        assert pc.connectionState == "connected"
        (done,) = [e for e in shim.events if isinstance(e, HandshakeComplete)]
        assert done.profile is SrtpProfile.AEAD_AES_128_GCM
        assert len(shim.rtp) >= 3
        version, payload_type, _, _, ssrc = struct.unpack("!BBHII", shim.rtp[0][:12])
        assert version >> 6 == 2
        assert payload_type & 0x7F == produce.codecs[0].payload_type
        assert ssrc == produce.encodings[0].ssrc

        # And the other direction: aiortc decrypts what our keys protect.
        dtls_transport = pc.getTransceivers()[0].sender.transport
        tx = Session(
            Policy(
                key=done.local_key + done.local_salt, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=int(done.profile)
            )
        )
        assert dtls_transport._rx_srtp.unprotect(tx.protect(RTP)) == RTP

        await pc.close()
        for _ in range(100):
            if any(isinstance(e, Closed) for e in shim.events):
                break
            await asyncio.sleep(0.01)
        assert Closed() in shim.events
    finally:
        if timers:
            timers.cancel()
        await pc.close()
        transport.close()
