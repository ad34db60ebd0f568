"""HTTPS and WSS end to end: `podium serve --tls-cert/--tls-key` with a certificate the test makes;
its local worker dials the engine channel over wss (pinning that certificate); aiortc participants
sign in over https, join over wss and get each other's media. Plain HTTP on that port is refused."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from certificates import make_certificate, trusting
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = make_certificate(directory, "127.0.0.1")
    server = PodiumServer.start(
        directory / "data", tls=trusting(cert), options=("--tls-cert", str(cert), "--tls-key", str(key))
    )
    try:
        yield server
    finally:
        server.stop()


async def test_participants_join_over_wss_and_get_media(podium: PodiumServer, monkeypatch) -> None:
    loopback_only(monkeypatch)
    assert podium.url.startswith("https://") and podium.ws_url.startswith("wss://")
    api = Api(podium.url, verify=podium.tls)
    await api.login_admin()
    room = await api.create_room("Over TLS")
    people: list[Participant] = []
    try:
        organizer = await Participant.join(podium, api.token, room["id"])
        people.append(organizer)
        alice_id, token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        alice = await Participant.join(podium, token, room["id"])
        people.append(alice)
        await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        assert await organizer.frames_grow(alice.id, "microphone")
        assert await organizer.frames_grow(alice.id, "camera")
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
    log = podium.log.read_text()
    assert f"Podium is ready: browsers reach it at https://127.0.0.1:{podium.port}/" in log
    assert "beyond this host" not in log  # loopback: no warning


def test_plain_http_and_unknown_certificates_are_refused(podium: PodiumServer) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{podium.port}/api/v1/openapi.json", timeout=5)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{podium.url}/api/v1/openapi.json", timeout=5)  # the system's CAs do not know it
    assert httpx.get(f"{podium.url}/api/v1/openapi.json", timeout=5, verify=podium.tls).status_code == 200
