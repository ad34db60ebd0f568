"""ICE-lite: unit tests on crafted STUN, and aioice's full agent against a loopback UDP shim."""

from __future__ import annotations

import asyncio
import socket

import aioice
import aioice.ice
import aioice.stun as stun
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.webrtc.ice import (
    CONSENT_TIMEOUT,
    AddressExpired,
    AddressTrusted,
    IceLite,
    PairNominated,
    is_stun,
)

LOCAL_UFRAG = "lite"
LOCAL_PWD = "litepasswordlitepassword"
REMOTE_UFRAG = "full"
ADDR = ("192.0.2.10", 50000)
ADDR2 = ("198.51.100.20", 61000)


def binding_request(
    *,
    username: str = f"{LOCAL_UFRAG}:{REMOTE_UFRAG}",
    pwd: str = LOCAL_PWD,
    nominate: bool = False,
    controlling: bool = True,
    integrity: bool = True,
    fingerprint: bool = True,
) -> tuple[bytes, stun.Message]:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = username
    request.attributes["PRIORITY"] = 1853824767
    if controlling:
        request.attributes["ICE-CONTROLLING"] = 0x1234
    else:
        request.attributes["ICE-CONTROLLED"] = 0x1234
    if nominate:
        request.attributes["USE-CANDIDATE"] = None
    if integrity:
        request.add_message_integrity(pwd.encode())
        if not fingerprint:
            request.attributes.pop("FINGERPRINT")
    elif fingerprint:
        request.add_fingerprint()
    return bytes(request), request


def test_valid_request_is_answered_and_trusted():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    data, request = binding_request()
    response, events = ice.receive(data, ADDR, now=1.0)

    assert events == [AddressTrusted(ADDR)]
    assert ice.is_trusted(ADDR)
    assert not ice.is_trusted(ADDR2)
    assert ice.nominated is None  # no USE-CANDIDATE yet
    assert response is not None
    message = stun.parse_message(response)  # verifies FINGERPRINT
    assert message.message_method == stun.Method.BINDING
    assert message.message_class == stun.Class.RESPONSE
    assert message.transaction_id == request.transaction_id
    assert message.attributes["XOR-MAPPED-ADDRESS"] == ADDR
    assert "FINGERPRINT" in message.attributes
    assert message.check_message_integrity(LOCAL_PWD.encode())
    assert ice.stats["responses_sent"] == 1


def test_use_candidate_nominates_once():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    _, events = ice.receive(binding_request(nominate=True)[0], ADDR, now=0.0)
    assert events == [AddressTrusted(ADDR), PairNominated(ADDR, None)]
    assert ice.nominated == ADDR
    # Consent checks on the nominated pair change nothing.
    response, events = ice.receive(binding_request(nominate=True)[0], ADDR, now=5.0)
    assert response is not None and events == []
    assert ice.trusted[ADDR] == 5.0


@pytest.mark.parametrize(
    "kwargs, counter",
    [
        ({"username": f"other:{REMOTE_UFRAG}"}, "bad_username"),
        ({"username": LOCAL_UFRAG}, "bad_username"),
        ({"username": f"{LOCAL_UFRAG}:"}, "bad_username"),
        ({"pwd": "wrongpasswordwrongpassword"}, "bad_integrity"),
        ({"integrity": False}, "bad_integrity"),
        ({"fingerprint": False}, "no_fingerprint"),
    ],
)
def test_bad_credentials_get_no_response(kwargs, counter):
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    response, events = ice.receive(binding_request(nominate=True, **kwargs)[0], ADDR, now=0.0)
    assert response is None
    assert events == []
    assert not ice.is_trusted(ADDR)
    assert ice.nominated is None
    assert ice.stats[counter] == 1


def test_remote_ufrag_is_checked_when_known():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD, remote_ufrag="somebodyelse")
    response, _ = ice.receive(binding_request()[0], ADDR, now=0.0)
    assert response is None
    assert ice.stats["bad_username"] == 1
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD, remote_ufrag=REMOTE_UFRAG)
    response, _ = ice.receive(binding_request()[0], ADDR, now=0.0)
    assert response is not None


def test_corrupted_fingerprint_is_malformed():
    data = bytearray(binding_request()[0])
    data[-1] ^= 0xFF
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    assert ice.receive(bytes(data), ADDR, now=0.0) == (None, [])
    assert ice.stats["malformed"] == 1


def test_tampered_attribute_fails_integrity():
    data, request = binding_request()
    # Change PRIORITY and recompute only the FINGERPRINT: MESSAGE-INTEGRITY must catch it.
    request.attributes["PRIORITY"] = 1
    integrity = request.attributes["MESSAGE-INTEGRITY"]
    request.attributes.pop("FINGERPRINT")
    request.attributes["MESSAGE-INTEGRITY"] = integrity
    request.add_fingerprint()
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    assert ice.receive(bytes(request), ADDR, now=0.0) == (None, [])
    assert ice.stats["bad_integrity"] == 1


def test_responses_and_indications_are_ignored():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    for message_class in (stun.Class.RESPONSE, stun.Class.INDICATION, stun.Class.ERROR):
        message = stun.Message(message_method=stun.Method.BINDING, message_class=message_class)
        message.add_message_integrity(LOCAL_PWD.encode())
        assert ice.receive(bytes(message), ADDR, now=0.0) == (None, [])
    assert ice.stats["not_binding_request"] == 3
    assert ice.trusted == {}


def test_role_conflict_answered_with_487():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    response, events = ice.receive(binding_request(controlling=False)[0], ADDR, now=0.0)
    assert events == []
    assert not ice.is_trusted(ADDR)
    message = stun.parse_message(response)
    assert message.message_class == stun.Class.ERROR
    assert message.error_code == 487
    assert message.check_message_integrity(LOCAL_PWD.encode())
    assert ice.stats["role_conflicts"] == 1


def test_consent_expiry_with_fake_clock():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    ice.receive(binding_request(nominate=True)[0], ADDR, now=100.0)
    assert ice.next_expiry() == 100.0 + CONSENT_TIMEOUT
    ice.receive(binding_request()[0], ADDR, now=120.0)  # consent refreshed
    assert ice.expire(now=140.0) == []
    assert ice.is_trusted(ADDR)
    assert ice.next_expiry() == 150.0
    assert ice.expire(now=150.0) == [AddressExpired(ADDR, was_nominated=True)]
    assert not ice.is_trusted(ADDR)
    assert ice.nominated is None
    assert ice.next_expiry() is None
    assert ice.expire(now=1000.0) == []


def test_nat_rebinding_moves_the_nominated_pair():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    ice.receive(binding_request(nominate=True)[0], ADDR, now=0.0)
    # Same credentials from a new address (new NAT mapping or new network): trusted, and
    # the nomination follows it.
    response, events = ice.receive(binding_request(nominate=True)[0], ADDR2, now=1.0)
    assert stun.parse_message(response).attributes["XOR-MAPPED-ADDRESS"] == ADDR2
    assert events == [AddressTrusted(ADDR2), PairNominated(ADDR2, ADDR)]
    assert ice.nominated == ADDR2
    # The old mapping is still trusted until its consent runs out, but is no longer nominated.
    assert ice.is_trusted(ADDR)
    assert ice.expire(now=30.5) == [AddressExpired(ADDR, was_nominated=False)]
    assert ice.nominated == ADDR2


def test_expired_nominated_address_falls_back_to_live_one():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    ice.receive(binding_request(nominate=True)[0], ADDR, now=0.0)
    ice.receive(binding_request()[0], ADDR2, now=10.0)  # checked, never nominated
    assert ice.nominated == ADDR
    events = ice.expire(now=30.0)
    assert events == [AddressExpired(ADDR, was_nominated=True), PairNominated(ADDR2, None)]
    assert ice.nominated == ADDR2


def test_ice_restart_changes_credentials():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    ice.set_local_credentials("newu", "newpasswordnewpassword12")
    assert ice.receive(binding_request()[0], ADDR, now=0.0)[0] is None
    data, _ = binding_request(username=f"newu:{REMOTE_UFRAG}", pwd="newpasswordnewpassword12")
    assert ice.receive(data, ADDR, now=0.0)[0] is not None


def test_ipv4_mapped_address_is_reported_as_ipv4():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    mapped = ("::ffff:192.0.2.10", 50000, 0, 0)  # a dual-stack socket's sockaddr
    response, events = ice.receive(binding_request()[0], mapped, now=0.0)
    assert events == [AddressTrusted(("::ffff:192.0.2.10", 50000))]
    assert ice.is_trusted(mapped)
    assert stun.parse_message(response).attributes["XOR-MAPPED-ADDRESS"] == ("192.0.2.10", 50000)


def test_ipv6_address():
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    response, _ = ice.receive(binding_request()[0], ("2001:db8::1", 4000, 0, 0), now=0.0)
    assert stun.parse_message(response).attributes["XOR-MAPPED-ADDRESS"] == ("2001:db8::1", 4000)


def test_is_stun_demultiplexing():
    assert is_stun(binding_request()[0])
    assert not is_stun(b"\x80" + bytes(30))  # RTP
    assert not is_stun(b"\x16\xfe\xfd" + bytes(30))  # DTLS
    assert not is_stun(b"\x00\x01")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data):
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    assert ice.receive(data, ADDR, now=0.0) == (None, [])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=8))
def test_mutated_request_is_never_answered(position, junk):
    original = binding_request(nominate=True)[0]
    data = bytearray(original)
    position %= len(data)
    data[position : position + len(junk)] = junk
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    response, events = ice.receive(bytes(data), ADDR, now=0.0)
    if bytes(data) != original:
        # MESSAGE-INTEGRITY covers the header and every attribute before it.
        assert (response, events) == (None, [])


# -- against aioice's full agent over loopback UDP ------------------------------------------------


class LiteShim(asyncio.DatagramProtocol):
    """A minimal driver: STUN to IceLite, anything else is media, kept only from trusted addresses."""

    def __init__(self, ice: IceLite) -> None:
        self.ice = ice
        self.events: list = []
        self.media: list[tuple[bytes, tuple]] = []
        self.dropped = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        now = asyncio.get_running_loop().time()
        if is_stun(data):
            response, events = self.ice.receive(data, addr, now)
            self.events += events
            if response is not None:
                self.transport.sendto(response, addr)
        elif self.ice.is_trusted(addr):
            self.media.append((data, addr))
        else:
            self.dropped += 1


@pytest.fixture
def loopback_only(monkeypatch):
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def start_shim(ice: IceLite) -> tuple[LiteShim, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    transport, shim = await loop.create_datagram_endpoint(lambda: LiteShim(ice), local_addr=("127.0.0.1", 0))
    return shim, transport.get_extra_info("sockname")


async def full_agent(port: int, pwd: str = LOCAL_PWD, remote_is_lite: bool = True) -> aioice.Connection:
    agent = aioice.Connection(ice_controlling=True, use_ipv6=False, local_username=REMOTE_UFRAG)
    agent.remote_is_lite = remote_is_lite
    agent.remote_username = LOCAL_UFRAG
    agent.remote_password = pwd
    await agent.gather_candidates()
    await agent.add_remote_candidate(
        aioice.Candidate(
            foundation="1",
            component=1,
            transport="udp",
            priority=2130706431,
            host="127.0.0.1",
            port=port,
            type="host",
        )
    )
    await agent.add_remote_candidate(None)
    return agent


@pytest.mark.parametrize("remote_is_lite", [True, False], ids=["regular-nomination", "aggressive"])
async def test_aioice_full_agent_connects_and_nominates(loopback_only, remote_is_lite):
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD, remote_ufrag=REMOTE_UFRAG)
    shim, (host, port) = await start_shim(ice)
    agent = await full_agent(port, remote_is_lite=remote_is_lite)
    try:
        await asyncio.wait_for(agent.connect(), 10)
        local = agent.local_candidates[0]
        agent_addr = (local.host, local.port)
        assert ice.nominated == agent_addr
        assert AddressTrusted(agent_addr) in shim.events
        assert PairNominated(agent_addr, None) in shim.events

        await agent.send(b"\x80media")
        for _ in range(100):
            if shim.media:
                break
            await asyncio.sleep(0.01)
        assert shim.media == [(b"\x80media", agent_addr)]

        # Media from an address that never authenticated is dropped.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.sendto(b"\x80spoofed", (host, port))
            await asyncio.sleep(0.05)
        assert shim.dropped == 1
    finally:
        await agent.close()
        shim.transport.close()


async def test_aioice_with_wrong_password_gets_no_answer(loopback_only, monkeypatch):
    monkeypatch.setattr(stun, "RETRY_MAX", 1)
    monkeypatch.setattr(stun, "RETRY_RTO", 0.05)
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    shim, (_, port) = await start_shim(ice)
    agent = await full_agent(port, pwd="thisisnotthepassword00")
    try:
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(agent.connect(), 10)
        assert ice.stats["bad_integrity"] >= 1
        assert ice.stats["responses_sent"] == 0
        assert ice.trusted == {}
        assert ice.nominated is None
    finally:
        await agent.close()
        shim.transport.close()


async def test_nat_rebinding_over_loopback(loopback_only):
    """After aioice connected, the same credentials arrive from a new port: the pair moves."""
    ice = IceLite(LOCAL_UFRAG, LOCAL_PWD)
    shim, (host, port) = await start_shim(ice)
    agent = await full_agent(port)
    try:
        await asyncio.wait_for(agent.connect(), 10)
        old = ice.nominated
        assert old is not None

        # The "new NAT mapping": a new socket sending the agent's next check (with USE-CANDIDATE,
        # as browsers do on the selected pair), signed with the same credentials.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rebound:
            rebound.bind(("127.0.0.1", 0))
            rebound.setblocking(False)
            loop = asyncio.get_running_loop()
            data, request = binding_request(username=f"{LOCAL_UFRAG}:{REMOTE_UFRAG}", nominate=True)
            await loop.sock_sendto(rebound, data, (host, port))
            response, _ = await asyncio.wait_for(loop.sock_recvfrom(rebound, 2048), 5)
            new = rebound.getsockname()
        message = stun.parse_message(response)
        assert message.transaction_id == request.transaction_id
        assert message.attributes["XOR-MAPPED-ADDRESS"] == new
        assert ice.nominated == new
        assert PairNominated(new, old) in shim.events
    finally:
        await agent.close()
        shim.transport.close()
