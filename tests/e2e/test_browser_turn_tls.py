"""Chromium through coturn over HTTPS: the page is served by `podium serve --tls-cert/--tls-key`
(a certificate the test makes, pinned in Chromium by its public key), joins over wss with
/lib/meeting.js and may use relayed candidates only (iceTransportPolicy "relay"): the TURN
credentials of its `joined` frame are what lets it reach the worker. An aiortc participant decodes
its camera and microphone, and Chromium reports a relayed candidate pair on both connections."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets

import pytest
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS
from certificates import make_certificate, trusting
from coturn import coturn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from harness import loopback_only
from media import ToneAudioTrack
from playwright.async_api import async_playwright
from podium_client import Api, Participant, PodiumServer

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(150)]

JOIN_AND_PUBLISH = """async ({ token, roomId }) => {
  const { Meeting } = await import("/lib/meeting.js");
  const meeting = new Meeting({ token, roomId, rtcConfiguration: { iceTransportPolicy: "relay" } });
  window.meeting = meeting;
  const joined = await meeting.join();
  await meeting.publishMicrophone();
  await meeting.publishCamera();
  return joined;
}"""

# The pair each transport has selected. Not "nominated and succeeded": Chromium puts the
# selected pair back in progress while a consent check is in flight, so that filter can
# briefly match nothing on a connection that is carrying media.
SELECTED_CANDIDATE_TYPES = """async (which) => {
  const pc = window.meeting.media[which];
  if (!pc) return [];
  const stats = [...(await pc.getStats()).values()];
  const byId = new Map(stats.map((s) => [s.id, s]));
  return stats
    .filter((s) => s.type === "transport" && s.selectedCandidatePairId)
    .map((transport) => byId.get(byId.get(transport.selectedCandidatePairId).localCandidateId).candidateType);
}"""


def spki_hash(cert_path) -> str:
    """The base64 SHA-256 of the certificate's public key: what Chromium's pin list takes."""
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("browser-turn")
    cert, key = make_certificate(directory, "127.0.0.1")
    with coturn(directory, secrets.token_urlsafe(24)) as turn:
        server = PodiumServer.start(
            directory / "data",
            tls=trusting(cert),
            options=(
                "--tls-cert",
                str(cert),
                "--tls-key",
                str(key),
                "--turn-url",
                turn.url,
                "--turn-secret",
                turn.secret,
            ),
        )
        try:
            yield server, turn, cert
        finally:
            server.stop()


async def test_chromium_relays_through_coturn_over_https(setup, monkeypatch) -> None:
    podium, turn, cert = setup
    loopback_only(monkeypatch)
    api = Api(podium.url, verify=podium.tls)
    await api.login_admin()
    room = await api.create_room("Relayed browser")
    user_id, token = await api.create_user("browser")
    await api.grant(room["id"], user_id)
    watcher = await Participant.join(podium, api.token, room["id"])
    try:
        await watcher.publish(microphone=ToneAudioTrack(300))
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki_hash(cert)}"],
                timeout=30_000,
            )
            try:
                page = await browser.new_page()
                await page.goto(f"{podium.url}/")
                joined = await page.evaluate(JOIN_AND_PUBLISH, {"token": token, "roomId": room["id"]})
                assert joined["ice_servers"][0]["urls"] == [turn.url]
                browser_id = joined["participant_id"]
                assert await watcher.frames_grow(browser_id, "camera", timeout=30)
                assert await watcher.frames_grow(browser_id, "microphone")
                await page.wait_for_function(
                    "window.meeting.remote.size > 0 && [...window.meeting.remote.values()]"
                    ".some((r) => r.track && r.track.readyState === 'live')",
                    timeout=30_000,
                )
                for which in ("pub", "sub"):
                    types = await page.evaluate(SELECTED_CANDIDATE_TYPES, which)
                    assert types and set(types) == {"relay"}, (which, types)
                with contextlib.suppress(Exception):
                    await page.evaluate("window.meeting.leave()")
            finally:
                await browser.close()
    finally:
        await watcher.close()
    # coturn allocated with the browser participant's own credential
    assert f"user <{joined['ice_servers'][0]['username']}>: incoming packet ALLOCATE processed, success" in (
        turn.log.read_text()
    )
