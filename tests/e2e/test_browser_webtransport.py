"""Signaling over WebTransport: headless Chromium opens a WebTransport session (HTTP/3, aioquic) to
`podium serve --webtransport-port`, trusting its development certificate by `serverCertificateHashes`,
joins the meeting through the web client's own Meeting and Signaling (lib/webtransport.js under
lib/signaling.js) and exchanges whiteboard operations with an aiortc participant on the WebSocket."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS
from certificates import make_certificate, trusting
from cryptography import x509
from harness import loopback_only
from podium_client import Api, Participant, PodiumServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

JOIN_AND_DRAW = """async ({ url, hash, token, roomId }) => {
    const { Meeting } = await import("/lib/meeting.js");
    const { webTransportImpl, certificateHashes } = await import("/lib/webtransport.js");
    const WebSocketImpl = webTransportImpl({ serverCertificateHashes: certificateHashes([hash]) });
    const meeting = new Meeting({ token, roomId, url, WebSocketImpl });
    window.wtMeeting = meeting;
    window.wtOps = [];
    meeting.addEventListener("whiteboard-op", ({ detail }) => window.wtOps.push(detail.op));
    const joined = await meeting.join();
    const drawn = await meeting.signaling.request({ type: "whiteboard", op: { kind: "stroke", color: "#ff0000",
        width: 4, points: [[10, 10], [200, 120]] } });
    return { participantId: joined.participant_id, seq: drawn.seq };
}"""


async def test_chromium_joins_and_draws_over_webtransport(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    cert, key = make_certificate(tmp_path, "127.0.0.1")
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(encoding=_der())
    digest = hashlib.sha256(der).hexdigest()
    wt_port = free_port()
    options = ("--tls-cert", str(cert), "--tls-key", str(key), "--webtransport-port", str(wt_port))
    podium = PodiumServer.start(tmp_path / "podium", options=options, tls=trusting(cert))
    ws_participant = None
    try:
        api = Api(podium.url, verify=trusting(cert))
        await api.login_admin()
        room = await api.create_room("Over HTTP/3")
        ws_participant = await Participant.join(podium, api.token, room["id"])
        bob_id, bob_token = await api.create_user("bob")
        await api.grant(room["id"], bob_id)

        async def answer() -> None:  # once the browser's stroke arrives, a stroke back over the WebSocket
            await ws_participant.wait_event("whiteboard-op", lambda f: f["op"]["author"] != ws_participant.id, 60)
            stroke = {"kind": "stroke", "color": "#0000ff", "width": 4, "points": [[300, 300], [400, 350]]}
            await ws_participant.request({"type": "whiteboard", "op": stroke})

        answering = asyncio.ensure_future(answer())
        result = await asyncio.to_thread(_browser, podium.url, wt_port, digest, bob_token, room["id"])
        await answering
        # the WebSocket participant saw the browser's stroke, and the browser saw its answer over HTTP/3
        seen = await ws_participant.wait_event("whiteboard-op", lambda f: f["op"]["seq"] == result["seq"])
        assert seen["op"]["author"] == result["participantId"] and seen["op"]["color"] == "#ff0000"
        assert result["ops"][0]["seq"] == result["seq"]
        assert [op["seq"] for op in result["ops"]] == [result["seq"], result["seq"] + 1]
        assert result["ops"][1]["author"] == ws_participant.id
        assert result["transport"] == "WebTransportSocket"
    finally:
        if ws_participant is not None:
            await ws_participant.close()
        podium.stop()


def _der():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _browser(base_url: str, wt_port: int, digest: str, token: str, room_id: str) -> dict:
    """Chromium (QUIC allowed: the shared fixtures turn it off) joins over WebTransport and draws; the
    WebSocket participant then draws (through the test's loop) and the page must receive it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}", pytrace=False)
    from playwright.sync_api import sync_playwright

    args = [a for a in CHROMIUM_ARGS if a != "--disable-quic"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            context = browser.new_context(base_url=base_url, ignore_https_errors=True)
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            page.goto("/index.html")
            url = f"https://127.0.0.1:{wt_port}/signaling/v1"
            result = page.evaluate(JOIN_AND_DRAW, {"url": url, "hash": digest, "token": token, "roomId": room_id})
            page.wait_for_function("() => window.wtOps.length >= 2", timeout=15_000)
            result["ops"] = page.evaluate("() => window.wtOps")
            result["transport"] = page.evaluate(
                """async () => (window.wtMeeting.signaling._ws instanceof
                    (await import("/lib/webtransport.js")).WebTransportSocket) ? 'WebTransportSocket' : 'other'
            """
            )
            return result
        finally:
            browser.close()


async def test_meeting_page_picks_webtransport_and_falls_back(tmp_path, monkeypatch) -> None:
    """The web client's meeting page, on a server started with `--dev-certificate`: it reads the offer at
    /signaling/transports and joins over WebTransport; with the offered address unreachable (a UDP port
    nothing listens on) the same page joins over the WebSocket."""
    loopback_only(monkeypatch)
    wt_port = free_port()
    options = ("--webtransport-port", str(wt_port), "--dev-certificate")
    podium = PodiumServer.start(tmp_path / "podium", options=options)
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Picks its transport")
        transports = await asyncio.to_thread(_meeting_pages, podium.url, room["id"], free_port())
        assert transports == ["webtransport", "websocket"]
    finally:
        podium.stop()


def _meeting_pages(base_url: str, room_id: str, closed_port: int) -> list[str]:
    """The administrator joins on the meeting page twice: as offered, then with the offer pointing at
    `closed_port`; what each page's Meeting connected over."""
    from browser_fixtures import sign_in
    from playwright.sync_api import sync_playwright
    from podium_client import ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY

    args = [a for a in CHROMIUM_ARGS if a != "--disable-quic"]
    transports = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            for unreachable in (False, True):
                context = browser.new_context(base_url=base_url)
                context.set_default_timeout(UI_TIMEOUT_MS)
                page = context.new_page()
                if unreachable:

                    def offer_closed_port(route):  # type: ignore[no-untyped-def]
                        offered = route.fetch().json()
                        url = offered["webtransport"]["url"]
                        offered["webtransport"]["url"] = url.replace(url.split(":")[2].split("/")[0], str(closed_port))
                        route.fulfill(json=offered)

                    page.route("**/signaling/transports", offer_closed_port)
                sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY)
                page.goto(f"/meeting.html?room={room_id}")
                page.get_by_role("button", name="Join the meeting").click()
                page.wait_for_selector("body[data-joined=true]", timeout=30_000)
                transports.append(page.evaluate("() => window.podiumMeeting.transport"))
                context.close()
        finally:
            browser.close()
    return transports
