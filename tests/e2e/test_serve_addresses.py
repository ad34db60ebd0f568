"""Addresses end to end, with `podium serve` in a network namespace of its own (another host, reached
over a veth pair):

- it binds HTTP to that host's IPv4 address and its workers' UDP to every address there
  (`--media-bind ::`), and announces the host's IPv4 and IPv6 addresses. The ICE candidates in its
  SDP are exactly those, an aiortc participant on this side of the pair gets media through them, and
  the server says where browsers reach it, warning that it serves plain HTTP beyond its host;
- behind a NAT (nftables in the namespace), it binds the private address and announces the public
  one: media reaches the worker through the translation."""

from __future__ import annotations

import contextlib

import aioice.ice
import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from netns import Namespace, namespace, nat_translated
from podium_client import Api, Participant, PodiumServer

from control.meetings.sdp.model import SessionDescription

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def host():
    with namespace() as ns:
        yield ns


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory, host: Namespace):
    server = PodiumServer.start(
        tmp_path_factory.mktemp("podium"),
        host=host.address,
        prefix=host.exec,
        options=("--media-bind", "::", "--announce", host.address, "--announce", host.address6),
    )
    try:
        yield server
    finally:
        server.stop()


def candidates(sdp: str) -> set[tuple[str, int]]:
    return {(c.host, c.port) for m in SessionDescription.parse(sdp).media for c in m.candidates}


async def test_candidates_follow_the_announced_addresses_and_media_flows(podium, host, monkeypatch) -> None:
    # aiortc gathers this side's veth addresses only: everything crosses the pair
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: [host.peer, host.peer6])
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Across the pair")
    people: list[Participant] = []
    try:
        organizer = await Participant.join(podium, api.token, room["id"])
        people.append(organizer)
        alice_id, token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        alice = await Participant.join(podium, token, room["id"])
        people.append(alice)
        await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        await organizer.publish(microphone=ToneAudioTrack(300))
        assert await organizer.frames_grow(alice.id, "camera", timeout=20)
        assert await alice.frames_grow(organizer.id, "microphone", timeout=20)

        announced = candidates(alice.pc_pub.remoteDescription.sdp)
        assert {h for h, _ in announced} == {host.address, host.address6}
        assert len({p for _, p in announced}) == 1  # one worker socket, both families
        assert candidates(organizer.pc_sub.remoteDescription.sdp) == announced
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
    log = podium.log.read_text()
    assert f"Podium is ready: browsers reach it at http://{host.address}:{podium.port}/" in log
    assert f"serving plain HTTP on {host.address}, beyond this host" in log


async def test_behind_a_nat_the_public_address_is_announced(tmp_path, monkeypatch) -> None:
    """`--bind PRIVATE --announce PUBLIC`: the worker binds the private address, the candidates carry
    the public one, and media reaches the worker through the NAT's translation."""
    with namespace(nat=True) as nat:
        assert nat.public is not None
        monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: [nat.peer])
        server = PodiumServer.start(tmp_path, host=nat.address, prefix=nat.exec, options=("--announce", nat.public))
        people: list[Participant] = []
        try:
            api = Api(server.url)
            await api.login_admin()
            room = await api.create_room("Behind a NAT")
            organizer = await Participant.join(server, api.token, room["id"])
            people.append(organizer)
            alice_id, token = await api.create_user("alice")
            await api.grant(room["id"], alice_id)
            alice = await Participant.join(server, token, room["id"])
            people.append(alice)
            await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
            assert await organizer.frames_grow(alice.id, "camera", timeout=20)
            assert await organizer.frames_grow(alice.id, "microphone")
            (candidate,) = candidates(alice.pc_pub.remoteDescription.sdp)
            assert candidate[0] == nat.public
            # the media keeps going through the translation (the only way to the worker)
            before = nat_translated(nat)
            assert await organizer.frames_grow(alice.id, "camera")
            assert nat_translated(nat) > before
            assert f"announced to browsers as {nat.public}" in server.log.read_text()
        finally:
            for p in people:
                with contextlib.suppress(Exception):
                    await p.close()
            server.stop()
