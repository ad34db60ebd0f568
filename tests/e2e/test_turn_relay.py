"""TURN through coturn: `podium serve --turn-url/--turn-secret` hands each participant short-lived
credentials in its `joined` frame (RTCIceServer shape); a participant that may only use relayed
candidates (iceTransportPolicy "relay") reaches the worker through coturn, which checks those
credentials, and media flows both ways."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

import aioice.turn
import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection
from coturn import coturn
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer

from control.security.turn import credential

pytestmark = pytest.mark.timeout(120)

TTL = 600


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory):
    with coturn(tmp_path_factory.mktemp("coturn"), secrets.token_urlsafe(24)) as server:
        yield server


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory, turn):
    server = PodiumServer.start(
        tmp_path_factory.mktemp("podium"),
        options=("--turn-url", turn.url, "--turn-secret", turn.secret, "--turn-ttl", str(TTL)),
    )
    try:
        yield server
    finally:
        server.stop()


def relay_only(participant: Participant) -> None:
    """New peer connections for `participant` that gather relayed candidates only, through the TURN
    servers of its `joined` frame: its host candidates are never offered nor used."""
    servers = [RTCIceServer(s["urls"], s["username"], s["credential"]) for s in participant.joined["ice_servers"]]

    def peer_connection() -> RTCPeerConnection:
        return RTCPeerConnection(
            RTCConfiguration(
                iceServers=servers,
                iceTransportPolicy=RTCIceTransportPolicy.RELAY,
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )

    participant.pc_pub, participant.pc_sub = peer_connection(), peer_connection()
    participant.pc_sub.on("track", participant._on_track)


def nominated_types(pc: RTCPeerConnection) -> set[str]:
    """The local candidate types of the pairs ICE nominated on `pc`'s transports."""
    types = set()
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        types |= {pair.local_candidate.type for pair in connection._nominated.values()}
    return types


async def test_joined_carries_turn_credentials_coturn_accepts(podium: PodiumServer, turn, monkeypatch) -> None:
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Credentials")
    participant = await Participant.join(podium, api.token, room["id"])
    try:
        (server,) = participant.joined["ice_servers"]
        assert server["urls"] == [turn.url]
        expiry, _, who = server["username"].partition(":")
        assert who == participant.id and -1 <= int(expiry) - time.time() - TTL <= 5
        assert server["credential"] == credential(turn.secret, server["username"])
        # coturn allocates a relay with it, and refuses a forged one
        transport, _ = await aioice.turn.create_turn_endpoint(
            asyncio.DatagramProtocol,
            ("127.0.0.1", turn.port),
            server["username"],
            server["credential"],
        )
        assert transport.get_extra_info("sockname")[1] in turn.relay_ports  # the relayed address
        transport.close()
        with pytest.raises(aioice.stun.TransactionFailed, match="401"):
            await aioice.turn.create_turn_endpoint(
                asyncio.DatagramProtocol,
                ("127.0.0.1", turn.port),
                server["username"],
                credential("guess", server["username"]),
            )
    finally:
        await participant.close()


async def test_a_relay_only_participant_gets_media_through_coturn(podium: PodiumServer, monkeypatch) -> None:
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Relayed")
    people: list[Participant] = []
    try:
        relayed = await Participant.join(podium, api.token, room["id"])
        people.append(relayed)
        relay_only(relayed)
        user_id, token = await api.create_user("direct")
        await api.grant(room["id"], user_id)
        direct = await Participant.join(podium, token, room["id"])
        people.append(direct)
        await relayed.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        await direct.publish(microphone=ToneAudioTrack(300))
        assert await direct.frames_grow(relayed.id, "camera", timeout=20)
        assert await direct.frames_grow(relayed.id, "microphone")
        assert await relayed.frames_grow(direct.id, "microphone", timeout=20)
        assert nominated_types(relayed.pc_pub) == {"relay"} and nominated_types(relayed.pc_sub) == {"relay"}
        assert nominated_types(direct.pc_pub) == {"host"}
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
