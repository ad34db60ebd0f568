"""WebRTC transports: the thin driver of ICE-lite (engine.webrtc.ice) and DTLS-SRTP
(engine.webrtc.dtls).

The fast path hands every STUN and DTLS datagram, and RTP/RTCP from addresses it does not know, to
the slow path. ``WebRtcDriver.datagram`` dispatches them:

- STUN, by the local ufrag of its USERNAME, to that transport's ``IceLite`` (which checks the
  credentials); the answer goes back from the worker's socket.
- DTLS, from an address ICE trusts, to that transport's ``DtlsEndpoint``.
- RTP/RTCP reaching Python comes from an address the C table does not hold: it is dropped and
  counted (``untrusted_media``; ``media_before_keys`` when ICE trusts the address but DTLS has not
  keyed SRTP yet).

The C address table learns a transport's addresses only once DTLS has exported the SRTP keys into
the transport: every address ICE trusts is accepted, the nominated one is sent to. So media from an
address that did no valid ICE check never reaches the fast path's producers, and nothing is ever
sent in clear. ICE events (nomination, NAT rebinding, consent expiry after 30 s) replace the
addresses in the table with one versioned operation.

Timers: one asyncio timer per transport, at the earlier of the DTLS retransmission timeout and the
ICE consent expiry; ``now`` is the loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.events import TransportRemoteChanged, TransportStateChanged
from engine.transport import Transport
from engine.webrtc.dtls import (
    DEFAULT_PROFILES,
    Closed,
    DtlsCertificate,
    DtlsEndpoint,
    DtlsEvent,
    DtlsState,
    FingerprintMismatch,
    HandshakeComplete,
    HandshakeFailed,
    SrtpProfile,
)
from engine.webrtc.ice import AddressExpired, AddressTrusted, IceEvent, IceLite, PairNominated, local_ufrag

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.router import Router

logger = logging.getLogger(__name__)

Address = tuple[str, int]

#: DTLS datagrams kept for a transport that is not connected yet (the peer's ClientHello may
#: arrive before the control plane has the SDP answer); the peer retransmits anything beyond.
MAX_EARLY_DTLS = 8

STATES = ("new", "connecting", "connected", "disconnected", "failed", "closed")


def _random_token(length: int) -> str:
    """ICE credentials: RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/"; URL-safe base64 minus -_."""
    token = ""
    while len(token) < length:
        token += "".join(c for c in secrets.token_urlsafe(length) if c.isalnum())
    return token[:length]


class WebRtcDriver:
    """The slow path of every WebRTC transport of one engine: dispatch, and the DTLS certificate."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.certificate = DtlsCertificate.generate()
        self._by_ufrag: dict[str, WebRtcTransport] = {}
        self._by_addr: dict[Address, WebRtcTransport] = {}
        self.stats = {
            "stun": 0,
            "stun_unknown_ufrag": 0,
            "dtls": 0,
            "dtls_untrusted": 0,
            "untrusted_media": 0,
            "media_before_keys": 0,
            "address_conflicts": 0,
        }

    def register(self, transport: WebRtcTransport) -> None:
        ufrag = transport.ice.local_ufrag
        if ufrag in self._by_ufrag:
            raise EngineError(f"ICE ufrag {ufrag!r} is in use by another transport")
        self._by_ufrag[ufrag] = transport

    def unregister(self, transport: WebRtcTransport) -> None:
        if self._by_ufrag.get(transport.ice.local_ufrag) is transport:
            del self._by_ufrag[transport.ice.local_ufrag]
        for addr in [a for a, t in self._by_addr.items() if t is transport]:
            del self._by_addr[addr]

    def datagram(self, data: bytes, addr: Address) -> bool:
        """Handles a slow-path datagram of a WebRTC transport: True when it was one's."""
        first = data[0] if data else 255
        if first < 4:
            ufrag = local_ufrag(data)
            transport = self._by_ufrag.get(ufrag) if ufrag is not None else None
            if transport is None:
                self.stats["stun_unknown_ufrag"] += 1
                return False
            self.stats["stun"] += 1
            transport._receive_stun(data, addr)
            return True
        transport = self._by_addr.get(addr)
        if 20 <= first <= 63:
            if transport is None:
                self.stats["dtls_untrusted"] += 1
                return False
            self.stats["dtls"] += 1
            transport._receive_dtls(data, addr)
            return True
        if 128 <= first <= 191:
            # RTP/RTCP the C table refused: never forwarded from here
            self.stats["media_before_keys" if transport is not None else "untrusted_media"] += 1
            return transport is not None
        return False

    def _trust(self, addr: Address, transport: WebRtcTransport) -> None:
        owner = self._by_addr.get(addr)
        if owner is not None and owner is not transport:
            # one remote address, two transports: the newest valid check wins the DTLS dispatch
            self.stats["address_conflicts"] += 1
        self._by_addr[addr] = transport

    def _forget(self, addr: Address, transport: WebRtcTransport) -> None:
        if self._by_addr.get(addr) is transport:
            del self._by_addr[addr]


class WebRtcTransport(Transport):
    """A peer's ICE-lite + DTLS-SRTP connection on the worker's UDP port (one BUNDLE transport)."""

    announces_bitrate = True

    def __init__(
        self,
        router: Router,
        transport_id: int,
        ice_ufrag: str | None,
        ice_pwd: str | None,
        srtp_profiles: list[SrtpProfile] | tuple[SrtpProfile, ...] | None,
    ) -> None:
        super().__init__(router, transport_id, None)
        ufrag = ice_ufrag or _random_token(8)
        pwd = ice_pwd or _random_token(24)
        if not 4 <= len(ufrag) <= 256 or not 22 <= len(pwd) <= 256:
            raise ValueError("ICE ufrag needs 4 to 256 characters and pwd 22 to 256 (RFC 8839)")
        self.ice = IceLite(ufrag, pwd)
        self.srtp_profiles = tuple(srtp_profiles or DEFAULT_PROFILES)
        self.dtls: DtlsEndpoint | None = None
        self.state = "new"
        self.srtp_profile: SrtpProfile | None = None
        """The negotiated SRTP profile once connected."""
        self._keyed = False
        self._early_dtls: list[tuple[bytes, Address]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._installed: tuple[Address | None, tuple[Address, ...]] = (None, ())

    # ---- API -------------------------------------------------------------------------------

    @property
    def ice_parameters(self) -> tuple[str, str]:
        """Our (ufrag, pwd) for a=ice-ufrag / a=ice-pwd."""
        return self.ice.local_ufrag, self.ice.local_pwd

    def connect(
        self,
        dtls_role: str,
        remote_fingerprints: list[tuple[str, str]] | tuple[tuple[str, str], ...],
        remote_ice_ufrag: str | None = None,
        remote_ice_pwd: str | None = None,
    ) -> None:
        """What the remote SDP says: our DTLS role ("server" or "client"), the peer certificate's
        fingerprints, and its ICE ufrag (checks must then name it). A client starts the handshake
        as soon as ICE has nominated an address."""
        self._check()
        if self.dtls is not None:
            raise EngineError(f"transport {self.id} is already connected")
        del remote_ice_pwd  # ICE-lite sends no checks: the peer's password is never needed
        webrtc = self.engine.webrtc
        self.dtls = DtlsEndpoint(webrtc.certificate, dtls_role, list(remote_fingerprints), self.srtp_profiles)
        if remote_ice_ufrag is not None:
            self.ice.remote_ufrag = remote_ice_ufrag
        self._set_state("connecting")
        now = self._now()
        if dtls_role == "client":
            if self.ice.nominated is not None:
                self._send(self.dtls.start(now), self.ice.nominated)
        else:
            self.dtls.start(now)
        early, self._early_dtls = self._early_dtls, []
        for data, addr in early:
            if self.ice.is_trusted(addr):
                self._receive_dtls(data, addr)
        self._schedule()

    # ---- datagrams from the driver -----------------------------------------------------------

    def _receive_stun(self, data: bytes, addr: Address) -> None:
        response, events = self.ice.receive(data, addr, self._now())
        if response is not None:
            self.engine.sendto(response, addr)
        if events:
            self._ice_events(events)
            self._schedule()

    def _receive_dtls(self, data: bytes, addr: Address) -> None:
        if self.dtls is None:
            if len(self._early_dtls) < MAX_EARLY_DTLS:
                self._early_dtls.append((data, addr))
            return
        datagrams, events = self.dtls.receive(data, self._now())
        self._send(datagrams, self.ice.nominated or addr)
        self._dtls_events(events)
        self._schedule()

    # ---- events ------------------------------------------------------------------------------

    def _ice_events(self, events: list[IceEvent]) -> None:
        webrtc = self.engine.webrtc
        for event in events:
            if isinstance(event, AddressTrusted):
                webrtc._trust(event.addr, self)
            elif isinstance(event, AddressExpired):
                webrtc._forget(event.addr, self)
            elif isinstance(event, PairNominated):
                dtls = self.dtls
                if dtls is not None and dtls.role == "client" and dtls.state is DtlsState.NEW:
                    self._send(dtls.start(self._now()), event.addr)
        remote = self.ice.nominated
        if remote != self.remote:
            self.remote = remote
            self.engine._emit(TransportRemoteChanged(self.id, remote))
        if self.state == "connected" and not self.ice.trusted:
            self._set_state("disconnected", "ICE consent expired")
        elif self.state == "disconnected" and self.ice.trusted:
            self._set_state("connected")
        self._install_addresses()

    def _dtls_events(self, events: list[DtlsEvent]) -> None:
        for event in events:
            if isinstance(event, HandshakeComplete):
                self.set_srtp(int(event.profile), event.local_key_salt, event.remote_key_salt)
                self.srtp_profile = event.profile
                self._keyed = True
                self._set_state("connected")
            elif isinstance(event, FingerprintMismatch):
                self._keyed = False
                self._set_state("failed", "DTLS fingerprint mismatch")
            elif isinstance(event, HandshakeFailed):
                self._keyed = False
                self._set_state("failed", event.reason)
            elif isinstance(event, Closed):
                self._keyed = False
                self._set_state("closed", "DTLS close_notify")
        self._install_addresses()

    def _install_addresses(self) -> None:
        """The C table holds ICE's trusted addresses once SRTP is keyed, and none otherwise."""
        if self.closed:
            return
        remote: Address | None = None
        aliases: tuple[Address, ...] = ()
        if self._keyed:
            remote = self.ice.nominated
            aliases = tuple(a for a in self.ice.trusted if a != remote)
        if (remote, aliases) == self._installed:
            return
        try:
            self.engine._core.set_transport_addresses(self.id, remote, list(aliases))
        except ValueError as error:
            self.engine.webrtc.stats["address_conflicts"] += 1
            logger.warning("transport %s: %s", self.id, error)
            return
        self._installed = (remote, aliases)
        self.engine._applied()

    def _set_state(self, state: str, reason: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self.engine._emit(TransportStateChanged(self.id, state, reason))

    # ---- timers ------------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.closed:
            return
        deadlines = [
            d for d in (self.dtls.next_timeout() if self.dtls else None, self.ice.next_expiry()) if d is not None
        ]
        if deadlines:
            self._timer = asyncio.get_running_loop().call_at(min(deadlines), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        now = self._now()
        if self.dtls is not None:
            datagrams, events = self.dtls.handle_timeout(now)
            if self.ice.nominated is not None:
                self._send(datagrams, self.ice.nominated)
            self._dtls_events(events)
        events = self.ice.expire(now)
        if events:
            self._ice_events(events)
        self._schedule()

    # ---- teardown and helpers ----------------------------------------------------------------

    def _send(self, datagrams: list[bytes], addr: Address | None) -> None:
        if addr is None:
            return
        for datagram in datagrams:
            self.engine.sendto(datagram, addr)

    def stats(self) -> dict[str, Any]:
        stats = super().stats()
        stats.update(
            state=self.state,
            remote=self.ice.nominated,
            trusted=list(self.ice.trusted),
            srtp_profile=self.srtp_profile.name if self.srtp_profile else None,
            ice=dict(self.ice.stats),
            dtls=dict(self.dtls.stats) if self.dtls else None,
            unmapped_ssrcs=self.unmapped_ssrcs,
        )
        return stats

    def _close(self) -> None:
        if self.closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.dtls is not None:
            # close_notify, so the peer knows at once instead of after its consent timeout
            self._send(self.dtls.close(), self.ice.nominated)
        webrtc = self.engine._webrtc
        if webrtc is not None:
            webrtc.unregister(self)
        super()._close()
        self.state = "closed"


__all__ = ["WebRtcDriver", "WebRtcTransport", "STATES"]
