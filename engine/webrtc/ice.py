"""ICE-lite (RFC 8445 section 2.5, STUN RFC 5389), sans-I/O.

The engine is an ICE-lite agent: it never sends connectivity checks, it only answers the Binding
requests of the full agent (the browser), which is always the controlling side. This module decides,
for one transport, which remote addresses may send media and which one media is sent to.

Interface for the integrator (the worker's transport owns one ``IceLite``)::

    ice = IceLite(local_ufrag, local_pwd, remote_ufrag=None)
    response, events = ice.receive(datagram, addr, now)   # every STUN datagram of this transport
    if response is not None:
        send(response, addr)                              # Binding success or 487 error
    events += ice.expire(now)                             # on a timer; see next_expiry()
    ice.next_expiry()      -> float | None                # when expire() next has work to do
    ice.is_trusted(addr)   -> bool                        # media from other addresses is dropped
    ice.nominated          -> addr | None                 # where media and RTCP are sent
    ice.trusted            -> dict[addr, last_seen]
    ice.set_local_credentials(ufrag, pwd, remote_ufrag=None)   # ICE restart
    ice.stats              -> dict[str, int]              # counters, never an exception
    local_ufrag(datagram)  -> str | None                  # the driver's dispatch key, see below

``addr`` is the ``(host, port)`` tuple the socket reported (extra items of an IPv6 sockaddr are
dropped; an IPv4-mapped IPv6 host is kept as it is for keys, and reported as IPv4 in
XOR-MAPPED-ADDRESS). ``now`` is a monotonic time in seconds supplied by the caller: no clock is read
here.

Events (small dataclasses, in the order they happened):

- ``AddressTrusted(addr)``: a valid Binding request arrived from a new address.
- ``PairNominated(addr, previous)``: media must now be sent to ``addr`` (USE-CANDIDATE from that
  address, NAT rebinding, or fallback when the nominated address expired).
- ``AddressExpired(addr, was_nominated)``: no valid Binding request from ``addr`` for
  ``CONSENT_TIMEOUT`` seconds (RFC 7675); it is no longer trusted. If it was the nominated one,
  the most recently seen trusted address (if any) is nominated instead, and ``PairNominated`` follows.

Bad input (malformed STUN, wrong USERNAME, bad MESSAGE-INTEGRITY, missing FINGERPRINT, responses,
indications) gives ``(None, [])`` and bumps a counter in ``stats``: ICE-lite never raises on the
network's bytes. A check claiming ICE-CONTROLLED (a lite agent is always controlled) is answered
with a signed 487 Role Conflict so the full agent switches to controlling; it trusts nothing.
Only STUN refreshes consent: media never does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from aioice import stun

#: RFC 7675 section 5.1: consent is lost after 30 s without a successful check.
CONSENT_TIMEOUT = 30.0

#: RFC 5389 section 6: the magic cookie; the first two bits of a STUN message are zero.
STUN_MAGIC_COOKIE = b"\x21\x12\xa4\x42"

#: RFC 5389 section 15.5: FINGERPRINT attribute type and length, at 8 bytes from the end.
FINGERPRINT_HEADER = b"\x80\x28\x00\x04"

#: RFC 8445 section 7.3.1.1: the error answered to a check whose role conflicts with ours.
ERROR_ROLE_CONFLICT = (487, "Role Conflict")

SOFTWARE = "podium"

Address = tuple[str, int]


@dataclass(frozen=True)
class AddressTrusted:
    """A remote address proved knowledge of the ICE credentials."""

    addr: Address
    """The ``(host, port)`` the valid Binding request came from."""


@dataclass(frozen=True)
class PairNominated:
    """The selected pair changed: send media to ``addr`` from now on."""

    addr: Address
    """The newly nominated remote address."""
    previous: Address | None
    """The address that was nominated before, if any."""


@dataclass(frozen=True)
class AddressExpired:
    """A remote address lost consent (silent for ``CONSENT_TIMEOUT`` seconds)."""

    addr: Address
    """The address that is no longer trusted."""
    was_nominated: bool
    """Whether media was being sent to it."""


IceEvent = AddressTrusted | PairNominated | AddressExpired


def is_stun(data: bytes) -> bool:
    """RFC 7983 demultiplexing: a STUN message starts with a byte in [0, 3] and has the cookie."""
    return len(data) >= 20 and data[0] < 4 and data[4:8] == STUN_MAGIC_COOKIE


#: RFC 5389 section 15.3: USERNAME attribute type.
ATTRIBUTE_USERNAME = 0x0006


def local_ufrag(data: bytes) -> str | None:
    """Our part of a Binding request's USERNAME ("<our ufrag>:<their ufrag>"), found without a full
    parse: the worker's single socket serves every transport, and this picks the transport whose
    IceLite then checks everything. None when the datagram carries no readable USERNAME."""
    if not is_stun(data):
        return None
    end = min(len(data), 20 + int.from_bytes(data[2:4], "big"))
    pos = 20
    while pos + 4 <= end:
        kind = int.from_bytes(data[pos : pos + 2], "big")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if kind == ATTRIBUTE_USERNAME:
            value = data[pos + 4 : pos + 4 + length]
            if len(value) != length:
                return None
            ufrag, sep, _ = value.partition(b":")
            try:
                return ufrag.decode("utf8") if sep else None
            except UnicodeDecodeError:
                return None
        pos += 4 + length + (-length % 4)
    return None


def _normalize(addr: Any) -> Address:
    return (addr[0], int(addr[1]))


def _reported_address(addr: Address) -> Address:
    """The address as XOR-MAPPED-ADDRESS carries it: IPv4-mapped IPv6 is shown as IPv4."""
    host = addr[0]
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return (str(ip.ipv4_mapped), addr[1])
    return (str(ip), addr[1])


@dataclass
class IceLite:
    """The ICE-lite state of one transport (one component: rtcp-mux and BUNDLE are assumed)."""

    local_ufrag: str
    local_pwd: str
    remote_ufrag: str | None = None
    """When known (from the SDP), the remote part of USERNAME must match it."""
    consent_timeout: float = CONSENT_TIMEOUT

    trusted: dict[Address, float] = field(default_factory=dict, init=False)
    """Trusted remote addresses and the time of their last valid Binding request."""
    nominated: Address | None = field(default=None, init=False)
    """The remote address of the selected pair, or ``None`` before nomination."""
    stats: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self._key = self.local_pwd.encode("utf8")
        self.stats = {
            "requests": 0,
            "responses_sent": 0,
            "malformed": 0,
            "not_binding_request": 0,
            "bad_username": 0,
            "bad_integrity": 0,
            "no_fingerprint": 0,
            "role_conflicts": 0,
            "nominations": 0,
            "expired": 0,
        }

    # -- public API -------------------------------------------------------------------------------

    def set_local_credentials(self, ufrag: str, pwd: str, remote_ufrag: str | None = None) -> None:
        """ICE restart: new credentials; trusted addresses stay until their consent expires."""
        self.local_ufrag = ufrag
        self.local_pwd = pwd
        self._key = pwd.encode("utf8")
        self.remote_ufrag = remote_ufrag

    def is_trusted(self, addr: Any) -> bool:
        return _normalize(addr) in self.trusted

    def receive(self, data: bytes, addr: Any, now: float) -> tuple[bytes | None, list[IceEvent]]:
        """Handle one datagram from ``addr``; return the response to send back and the events."""
        addr = _normalize(addr)
        try:
            if not is_stun(data):
                raise ValueError("not a STUN message")
            message = stun.parse_message(data)
        except ValueError:  # also raised by parse_message for a bad FINGERPRINT or unknown method
            self.stats["malformed"] += 1
            return None, []
        except Exception:  # a truncated attribute value: never let the network raise
            self.stats["malformed"] += 1
            return None, []

        if message.message_method != stun.Method.BINDING or message.message_class != stun.Class.REQUEST:
            # ICE-lite sends no requests, so responses are stray; indications are keepalives.
            self.stats["not_binding_request"] += 1
            return None, []
        self.stats["requests"] += 1

        # RFC 8445 section 7.3: USERNAME is "<our ufrag>:<their ufrag>".
        username = message.attributes.get("USERNAME")
        if not isinstance(username, str) or not self._valid_username(username):
            self.stats["bad_username"] += 1
            return None, []
        # RFC 5389 section 10.1.3: a request failing MESSAGE-INTEGRITY is dropped (we send no 401,
        # so an attacker learns nothing).
        if not message.check_message_integrity(self._key):
            self.stats["bad_integrity"] += 1
            return None, []
        # RFC 8445 section 7.2.2: ICE checks carry FINGERPRINT (parse_message verified its value),
        # and RFC 5389 section 15.5 makes it the last attribute, 4 bytes long.
        if "FINGERPRINT" not in message.attributes or data[-8:-4] != FINGERPRINT_HEADER:
            self.stats["no_fingerprint"] += 1
            return None, []

        # RFC 8445 sections 6.1.1 and 7.3.1.1: a lite agent is always controlled. A peer claiming
        # the controlled role as well is told to switch with 487; it then retries as controlling.
        if "ICE-CONTROLLED" in message.attributes and "ICE-CONTROLLING" not in message.attributes:
            self.stats["role_conflicts"] += 1
            return self._error(message, ERROR_ROLE_CONFLICT), []

        events: list[IceEvent] = []
        if addr not in self.trusted:
            events.append(AddressTrusted(addr))
        self.trusted[addr] = now

        # USE-CANDIDATE nominates this pair; a later nomination from another address (NAT
        # rebinding, network change, renomination) moves the selected pair. Nothing is sent
        # before a nomination.
        if "USE-CANDIDATE" in message.attributes:
            if self.nominated != addr:
                self.stats["nominations"] += 1
                events.append(PairNominated(addr, self.nominated))
                self.nominated = addr

        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=message.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = _reported_address(addr)
        response.add_message_integrity(self._key)  # also adds FINGERPRINT
        self.stats["responses_sent"] += 1
        return bytes(response), events

    def expire(self, now: float) -> list[IceEvent]:
        """Forget addresses silent for ``consent_timeout`` seconds (RFC 7675)."""
        events: list[IceEvent] = []
        deadline = now - self.consent_timeout
        for addr, last_seen in list(self.trusted.items()):
            if last_seen <= deadline:
                del self.trusted[addr]
                self.stats["expired"] += 1
                was_nominated = addr == self.nominated
                events.append(AddressExpired(addr, was_nominated))
                if was_nominated:
                    self.nominated = None
        if self.nominated is None and events and self.trusted:
            # The nominated path died but another one is alive: fall back to the freshest.
            fallback = max(self.trusted.items(), key=lambda item: item[1])[0]
            self.nominated = fallback
            self.stats["nominations"] += 1
            events.append(PairNominated(fallback, None))
        return events

    def next_expiry(self) -> float | None:
        """The time at which ``expire()`` will next forget an address, or ``None``."""
        if not self.trusted:
            return None
        return min(self.trusted.values()) + self.consent_timeout

    # -- helpers ----------------------------------------------------------------------------------

    def _valid_username(self, username: str) -> bool:
        local, sep, remote = username.partition(":")
        if not sep or local != self.local_ufrag or not remote:
            return False
        return self.remote_ufrag is None or remote == self.remote_ufrag

    def _error(self, request: stun.Message, error: tuple[int, str]) -> bytes:
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.ERROR,
            transaction_id=request.transaction_id,
        )
        response.attributes["ERROR-CODE"] = error
        response.add_message_integrity(self._key)
        return bytes(response)
