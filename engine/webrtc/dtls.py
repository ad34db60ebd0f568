"""DTLS-SRTP (RFC 5763, RFC 5764) over pyOpenSSL memory BIOs, sans-I/O.

One ``DtlsEndpoint`` per WebRTC transport. It takes datagrams and ``now`` in, and returns datagrams
and events out: no socket, no clock, no task. The worker's driver feeds it the DTLS datagrams the fast
path classified (RFC 7983: first byte in [20, 63]), sends what it returns to the nominated ICE
address, and calls ``handle_timeout`` when ``next_timeout`` is due.

Interface for the integrator::

    cert = DtlsCertificate.generate()                 # one per worker; ECDSA P-256, self-signed
    cert.fingerprint()        -> "AB:CD:..."          # sha-256, for a=fingerprint in the SDP
    cert.fingerprints()       -> [("sha-256", "AB:..")]

    dtls = DtlsEndpoint(cert, role="server", remote_fingerprints=[("sha-256", "AB:..")],
                        profiles=DEFAULT_PROFILES, mtu=1200)
    datagrams = dtls.start(now)                       # the client's ClientHello; [] for a server
    datagrams, events = dtls.receive(datagram, now)   # every DTLS datagram of this transport
    dtls.next_timeout()       -> float | None         # absolute time the driver must wake us at
    datagrams, events = dtls.handle_timeout(now)      # retransmits the last flight when due
    events = dtls.set_remote_fingerprints([...])      # when the SDP answer comes after the handshake
    datagrams = dtls.close()                          # close_notify
    dtls.state                -> DtlsState
    dtls.stats                -> dict[str, int]

Events (dataclasses, in order):

- ``HandshakeComplete(profile, local_key, local_salt, remote_key, remote_salt)``: give
  ``local_key_salt`` (= local_key + local_salt) to the outbound SRTP session and
  ``remote_key_salt`` to the inbound one (the libsrtp master key layout), e.g.
  ``transport.set_srtp(int(e.profile), e.local_key_salt, e.remote_key_salt)``. ``profile`` is an
  ``SrtpProfile`` whose value is the RFC 5764 / libsrtp profile number.
- ``FingerprintMismatch(expected, actual)``: the peer's certificate is not the one in the SDP; the
  handshake is aborted and no keys are exported.
- ``HandshakeFailed(reason)``: an alert, a protocol error or the retransmission limit.
- ``Closed()``: the peer sent close_notify (we answer with ours).

Retransmission (RFC 6347 section 4.2.4): a timer per outstanding flight, 1 s doubling up to 60 s,
driven by ``now``. When it fires, OpenSSL is asked to retransmit (it re-encrypts with fresh record
numbers); if OpenSSL's own clock has not reached its timer yet, the last flight is re-sent as it was.
A completed endpoint that sees a handshake record again (the peer missed our final flight) re-sends
that final flight.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto

#: RFC 5764 section 4.2: the label of the keying material exporter.
EXPORTER_LABEL = b"EXTRACTOR-dtls_srtp"

#: RFC 6347 section 4.2.4.1: initial retransmission timer, doubled up to the maximum.
INITIAL_RETRANSMIT = 1.0
MAX_RETRANSMIT = 60.0
#: Retransmissions without progress before the handshake is declared failed (1+2+...+60 s ~ 2 min).
MAX_RETRANSMISSIONS = 7

#: A path MTU safe on every network WebRTC runs on (what browsers use as well).
DEFAULT_MTU = 1200

#: RFC 6347 section 4.1: record header: type(1) version(2) epoch(2) sequence(6) length(2).
RECORD_HEADER_LENGTH = 13
CONTENT_CHANGE_CIPHER_SPEC = 20
CONTENT_ALERT = 21
CONTENT_HANDSHAKE = 22

DTLS1_2_VERSION = 0xFEFD

CIPHERS = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    b"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
)

_HASHES = {
    "sha-1": hashlib.sha1,
    "sha-224": hashlib.sha224,
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}


class SrtpProfile(enum.IntEnum):
    """SRTP protection profiles (RFC 5764 section 4.1.2, RFC 7714 section 14.2).

    The values are the IANA numbers, which are also libsrtp's ``srtp_profile_t`` values.
    """

    AES128_CM_HMAC_SHA1_80 = 0x0001
    AES128_CM_HMAC_SHA1_32 = 0x0002
    AEAD_AES_128_GCM = 0x0007

    @property
    def openssl_name(self) -> bytes:
        return _OPENSSL_NAMES[self]

    @property
    def key_length(self) -> int:
        return 16

    @property
    def salt_length(self) -> int:
        return 12 if self is SrtpProfile.AEAD_AES_128_GCM else 14

    @classmethod
    def from_openssl_name(cls, name: bytes) -> SrtpProfile:
        for profile, openssl_name in _OPENSSL_NAMES.items():
            if openssl_name == name:
                return profile
        raise ValueError(f"unknown SRTP profile {name!r}")


_OPENSSL_NAMES = {
    SrtpProfile.AES128_CM_HMAC_SHA1_80: b"SRTP_AES128_CM_SHA1_80",
    SrtpProfile.AES128_CM_HMAC_SHA1_32: b"SRTP_AES128_CM_SHA1_32",
    SrtpProfile.AEAD_AES_128_GCM: b"SRTP_AEAD_AES_128_GCM",
}

#: Our preference order: GCM first (no separate HMAC, smaller tag overhead per byte of security).
DEFAULT_PROFILES = (
    SrtpProfile.AEAD_AES_128_GCM,
    SrtpProfile.AES128_CM_HMAC_SHA1_80,
    SrtpProfile.AES128_CM_HMAC_SHA1_32,
)


def certificate_fingerprint(der: bytes, algorithm: str = "sha-256") -> str:
    """RFC 8122 section 5: upper-case hex bytes separated by colons."""
    try:
        digest = _HASHES[algorithm.lower()](der).hexdigest().upper()
    except KeyError:
        raise ValueError(f"unsupported fingerprint algorithm {algorithm!r}") from None
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _normalize_fingerprint(value: str) -> str:
    return value.replace(":", "").replace(" ", "").upper()


@dataclass(frozen=True)
class DtlsCertificate:
    """A key pair and its self-signed certificate, as pyOpenSSL objects."""

    key: crypto.PKey
    cert: crypto.X509

    @classmethod
    def generate(cls, lifetime: datetime.timedelta = datetime.timedelta(days=30)) -> DtlsCertificate:
        """An ECDSA P-256 self-signed certificate (what browsers generate too)."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, os.urandom(8).hex())])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + lifetime)
            .sign(key, hashes.SHA256())
        )
        return cls(crypto.PKey.from_cryptography_key(key), crypto.X509.from_cryptography(cert))

    @property
    def der(self) -> bytes:
        return crypto.dump_certificate(crypto.FILETYPE_ASN1, self.cert)

    def fingerprint(self, algorithm: str = "sha-256") -> str:
        return certificate_fingerprint(self.der, algorithm)

    def fingerprints(self) -> list[tuple[str, str]]:
        return [("sha-256", self.fingerprint("sha-256"))]


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandshakeComplete:
    """The handshake succeeded and the peer's certificate matches the SDP fingerprint."""

    profile: SrtpProfile
    """The negotiated SRTP protection profile."""
    local_key: bytes = field(repr=False)
    """Master key for the SRTP we send."""
    local_salt: bytes = field(repr=False)
    """Master salt for the SRTP we send."""
    remote_key: bytes = field(repr=False)
    """Master key for the SRTP we receive."""
    remote_salt: bytes = field(repr=False)
    """Master salt for the SRTP we receive."""

    @property
    def local_key_salt(self) -> bytes:
        """Master key ‖ master salt of the outbound session (libsrtp's key layout)."""
        return self.local_key + self.local_salt

    @property
    def remote_key_salt(self) -> bytes:
        """Master key ‖ master salt of the inbound session."""
        return self.remote_key + self.remote_salt


@dataclass(frozen=True)
class FingerprintMismatch:
    """The peer's certificate does not match any fingerprint of the SDP: no keys."""

    expected: tuple[tuple[str, str], ...]
    """The fingerprints announced in the SDP."""
    actual: str
    """The sha-256 fingerprint of the certificate the peer presented."""


@dataclass(frozen=True)
class HandshakeFailed:
    """The handshake cannot complete."""

    reason: str
    """What went wrong, for logs and stats."""


@dataclass(frozen=True)
class Closed:
    """The peer closed the association with close_notify."""


DtlsEvent = HandshakeComplete | FingerprintMismatch | HandshakeFailed | Closed


class DtlsState(enum.Enum):
    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    CLOSED = "closed"


def split_records(data: bytes) -> list[bytes]:
    """Split a byte string into DTLS records; a truncated tail is returned as one piece."""
    records = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < RECORD_HEADER_LENGTH:
            records.append(data[pos:])
            break
        length = int.from_bytes(data[pos + 11 : pos + 13], "big")
        end = pos + RECORD_HEADER_LENGTH + length
        records.append(data[pos:end])
        pos = end
    return records


def pack_datagrams(records: list[bytes], mtu: int) -> list[bytes]:
    """Pack records into datagrams of at most ``mtu`` bytes (RFC 6347 section 4.1.1)."""
    datagrams: list[bytes] = []
    current = b""
    for record in records:
        if current and len(current) + len(record) > mtu:
            datagrams.append(current)
            current = b""
        current += record
    if current:
        datagrams.append(current)
    return datagrams


class DtlsEndpoint:
    """The DTLS side of one transport, as server or client."""

    def __init__(
        self,
        certificate: DtlsCertificate,
        role: str = "server",
        remote_fingerprints: list[tuple[str, str]] | None = None,
        profiles: tuple[SrtpProfile, ...] | list[SrtpProfile] = DEFAULT_PROFILES,
        mtu: int = DEFAULT_MTU,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError(f"DTLS role must be 'server' or 'client', not {role!r}")
        if not profiles:
            raise ValueError("at least one SRTP profile is required")
        self.role = role
        self.mtu = mtu
        self.state = DtlsState.NEW
        self.stats = {
            "datagrams_received": 0,
            "datagrams_sent": 0,
            "retransmissions": 0,
            "final_flight_resent": 0,
            "fingerprint_mismatches": 0,
            "errors": 0,
        }
        self._remote_fingerprints: tuple[tuple[str, str], ...] | None = None
        self._mismatch: FingerprintMismatch | None = None
        self._pending_keys: HandshakeComplete | None = None
        self._last_flight: list[bytes] = []
        self._timer_at: float | None = None
        self._timer_interval = INITIAL_RETRANSMIT
        self._retransmissions = 0
        if remote_fingerprints:
            self._remote_fingerprints = self._check_fingerprints(remote_fingerprints)

        ctx = SSL.Context(SSL.DTLS_METHOD)
        ctx.set_min_proto_version(DTLS1_2_VERSION)
        ctx.set_options(SSL.OP_NO_QUERY_MTU | SSL.OP_NO_TICKET)
        ctx.use_certificate(certificate.cert)
        ctx.use_privatekey(certificate.key)
        ctx.check_privatekey()
        ctx.set_cipher_list(CIPHERS)
        # Self-signed certificates are the norm: the chain is not verified, the fingerprint is.
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, self._verify)
        ctx.set_tlsext_use_srtp(b":".join(p.openssl_name for p in profiles))

        self._ssl = SSL.Connection(ctx, None)
        self._ssl.set_ciphertext_mtu(mtu)
        if role == "server":
            self._ssl.set_accept_state()
        else:
            self._ssl.set_connect_state()

    # -- public API -------------------------------------------------------------------------------

    def start(self, now: float) -> list[bytes]:
        """Begin the handshake: a client returns its ClientHello, a server waits for one."""
        if self.state is not DtlsState.NEW:
            return []
        self.state = DtlsState.CONNECTING
        if self.role == "server":
            return []
        datagrams, events = self._handshake(now)
        assert not events
        return datagrams

    def receive(self, data: bytes, now: float) -> tuple[list[bytes], list[DtlsEvent]]:
        """Handle one DTLS datagram from the peer."""
        self.stats["datagrams_received"] += 1
        if self.state is DtlsState.NEW:
            self.state = DtlsState.CONNECTING  # a server may be fed before start()
        if self.state in (DtlsState.FAILED, DtlsState.CLOSED):
            return [], []
        try:
            self._ssl.bio_write(data)
        except SSL.Error:
            self.stats["errors"] += 1
            return [], []
        if self.state is DtlsState.CONNECTING:
            return self._handshake(now)
        return self._read_after_handshake(data)

    def next_timeout(self) -> float | None:
        """When ``handle_timeout`` must be called next, or ``None`` when no timer is armed."""
        return self._timer_at

    def handle_timeout(self, now: float) -> tuple[list[bytes], list[DtlsEvent]]:
        """Retransmit the outstanding flight if its timer expired."""
        if self._timer_at is None or now < self._timer_at:
            return [], []
        if self.state is not DtlsState.CONNECTING:
            self._timer_at = None
            return [], []
        if self._retransmissions >= MAX_RETRANSMISSIONS:
            self._timer_at = None
            return self._fail("handshake timed out")
        self._retransmissions += 1
        self.stats["retransmissions"] += 1
        self._timer_interval = min(self._timer_interval * 2, MAX_RETRANSMIT)
        self._timer_at = now + self._timer_interval
        datagrams: list[bytes] = []
        try:
            if self._ssl.DTLSv1_handle_timeout():
                datagrams = self._drain()
        except SSL.Error as exc:
            return self._fail(f"retransmission failed: {exc}")
        if datagrams:
            self._last_flight = datagrams
        else:
            datagrams = list(self._last_flight)
        return self._count(datagrams), []

    def set_remote_fingerprints(self, fingerprints: list[tuple[str, str]]) -> list[DtlsEvent]:
        """Set the SDP fingerprints; completes a handshake that finished before they were known."""
        self._remote_fingerprints = self._check_fingerprints(fingerprints)
        if self._pending_keys is None:
            return []
        return self._release_keys()

    def close(self) -> list[bytes]:
        """Send close_notify (once) and stop."""
        if self.state in (DtlsState.CLOSED, DtlsState.NEW):
            self.state = DtlsState.CLOSED
            return []
        previous = self.state
        self.state = DtlsState.CLOSED
        self._timer_at = None
        if previous is DtlsState.FAILED:
            return []
        try:
            self._ssl.shutdown()
        except SSL.Error:
            pass
        return self._count(self._drain())

    # -- internals --------------------------------------------------------------------------------

    def _check_fingerprints(self, fingerprints: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        checked = []
        for algorithm, value in fingerprints:
            if algorithm.lower() not in _HASHES:
                continue  # RFC 8122: unknown algorithms are ignored, known ones must match
            checked.append((algorithm.lower(), _normalize_fingerprint(value)))
        if not checked:
            raise ValueError("no usable remote fingerprint")
        return tuple(checked)

    def _fingerprint_matches(self, der: bytes) -> bool:
        assert self._remote_fingerprints is not None
        for algorithm, value in self._remote_fingerprints:
            if _normalize_fingerprint(certificate_fingerprint(der, algorithm)) == value:
                return True
        return False

    def _verify(self, conn: SSL.Connection, cert: crypto.X509, errno: int, depth: int, ok: int) -> bool:
        if depth != 0 or self._remote_fingerprints is None:
            return True  # unknown yet: checked when set_remote_fingerprints() is called
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)
        if self._fingerprint_matches(der):
            return True
        self._mismatch = FingerprintMismatch(self._remote_fingerprints, certificate_fingerprint(der, "sha-256"))
        return False

    def _drain(self) -> list[bytes]:
        data = b""
        while True:
            try:
                chunk = self._ssl.bio_read(65536)
            except SSL.WantReadError:
                break
            if not chunk:
                break
            data += chunk
        return pack_datagrams(split_records(data), self.mtu)

    def _count(self, datagrams: list[bytes]) -> list[bytes]:
        self.stats["datagrams_sent"] += len(datagrams)
        return datagrams

    def _arm_timer(self, now: float) -> None:
        self._timer_interval = INITIAL_RETRANSMIT
        self._retransmissions = 0
        self._timer_at = now + self._timer_interval

    def _fail(self, reason: str) -> tuple[list[bytes], list[DtlsEvent]]:
        self.stats["errors"] += 1
        self.state = DtlsState.FAILED
        self._timer_at = None
        events: list[DtlsEvent] = []
        if self._mismatch is not None:
            self.stats["fingerprint_mismatches"] += 1
            events.append(self._mismatch)
        else:
            events.append(HandshakeFailed(reason))
        return self._count(self._drain()), events  # the alert, if OpenSSL wrote one

    def _handshake(self, now: float) -> tuple[list[bytes], list[DtlsEvent]]:
        try:
            self._ssl.do_handshake()
        except SSL.WantReadError:
            datagrams = self._drain()
            if datagrams:
                # A new flight: it replaces the previous one and restarts the timer.
                self._last_flight = datagrams
                self._arm_timer(now)
            return self._count(datagrams), []
        except SSL.Error as exc:
            return self._fail(f"handshake failed: {exc}")

        # Handshake done: a server's final flight (CCS + Finished) may still be in the BIO.
        datagrams = self._drain()
        self._last_flight = datagrams  # kept only when it is our final flight (a server's)
        self._timer_at = None
        keys = self._export_keys()
        if keys is None:
            # RFC 5764 section 4.1.1: no use_srtp agreement means no DTLS-SRTP association.
            try:
                self._ssl.shutdown()
            except SSL.Error:
                pass
            sent, events = self._fail("no SRTP protection profile negotiated")
            return self._count(datagrams) + sent, events
        self.state = DtlsState.CONNECTED
        self._pending_keys = keys
        events: list[DtlsEvent] = []
        if self._remote_fingerprints is not None:
            events = self._release_keys()
            if self.state is DtlsState.FAILED:
                datagrams += self._drain()
        return self._count(datagrams), events

    def _export_keys(self) -> HandshakeComplete | None:
        try:
            profile = SrtpProfile.from_openssl_name(self._ssl.get_selected_srtp_profile())
        except ValueError:
            return None
        k, s = profile.key_length, profile.salt_length
        material = self._ssl.export_keying_material(EXPORTER_LABEL, 2 * (k + s))
        # RFC 5764 section 4.2: client key | server key | client salt | server salt.
        client_key, server_key = material[:k], material[k : 2 * k]
        client_salt, server_salt = material[2 * k : 2 * k + s], material[2 * k + s :]
        if self.role == "client":
            return HandshakeComplete(profile, client_key, client_salt, server_key, server_salt)
        return HandshakeComplete(profile, server_key, server_salt, client_key, client_salt)

    def _release_keys(self) -> list[DtlsEvent]:
        keys, self._pending_keys = self._pending_keys, None
        assert keys is not None
        peer = self._ssl.get_peer_certificate()
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1, peer) if peer is not None else b""
        if peer is None or not self._fingerprint_matches(der):
            self._mismatch = FingerprintMismatch(
                self._remote_fingerprints or (), certificate_fingerprint(der, "sha-256")
            )
            self.stats["fingerprint_mismatches"] += 1
            self.state = DtlsState.FAILED
            try:
                self._ssl.shutdown()
            except SSL.Error:
                pass
            return [self._mismatch]
        return [keys]

    def _read_after_handshake(self, data: bytes) -> tuple[list[bytes], list[DtlsEvent]]:
        events: list[DtlsEvent] = []
        while True:
            try:
                self._ssl.recv(65536)  # application data is not used (no data channels)
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                self.state = DtlsState.CLOSED
                events.append(Closed())
                try:
                    self._ssl.shutdown()  # answer with our close_notify
                except SSL.Error:
                    pass
                break
            except SSL.Error:
                self.stats["errors"] += 1
                break
        datagrams = self._drain()
        if not datagrams and self.state is DtlsState.CONNECTED and self._last_flight:
            # The peer retransmitted its last flight, so it missed our final one. OpenSSL answers
            # fresh retransmissions itself; an identical copy is dropped by its replay window.
            if any(len(r) >= RECORD_HEADER_LENGTH and r[0] == CONTENT_HANDSHAKE for r in split_records(data)):
                self.stats["final_flight_resent"] += 1
                datagrams = list(self._last_flight)
        return self._count(datagrams), events
