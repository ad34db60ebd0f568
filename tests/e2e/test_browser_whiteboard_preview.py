"""Whiteboard previews in real browsers over WebTransport datagrams: two headless Chromium windows
(Debian's, QUIC allowed) join a meeting on `podium serve --webtransport-port --dev-certificate` through
the meeting page, which picks WebTransport. While Ada holds the pen down and moves, Bob's window shows
her stroke so far on its preview overlay (datagrams: nothing is stored, the board has no operation
yet); when she lets go, the committed stroke reaches Bob's board and the preview goes."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, sign_in
from harness import loopback_only
from podium_client import ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY, USER_PASSWORD, Api, PodiumServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

BOB_EMAIL = "bob.preview@podium.test"


async def test_a_stroke_being_drawn_reaches_another_window_as_preview_datagrams(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    wt_port = free_port()
    podium = PodiumServer.start(tmp_path / "podium", options=("--webtransport-port", str(wt_port), "--dev-certificate"))
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Previewed board")
        invited = await api.call("POST", "/users", {"email": BOB_EMAIL, "name": "Bob Preview"})
        body = {"invitation_token": invited["invitation_token"], "password": USER_PASSWORD}
        await api.call("POST", "/auth/accept-invitation", body, token="-")
        await api.grant(room["id"], invited["user"]["id"])
        seen = await asyncio.to_thread(_two_windows, podium.url, room["id"])
    finally:
        podium.stop()
    assert seen["transports"] == ["webtransport", "webtransport"]
    assert seen["while_drawing"]["previews"] == "1" and int(seen["while_drawing"]["points"]) >= 3
    assert seen["while_drawing"]["ops"] == "0"  # only a preview: the board has no operation yet
    assert seen["while_drawing"]["author"] == seen["ada"]
    assert seen["preview_pixel"][3] > 0  # drawn on the overlay, over the board
    assert seen["after"] == {"previews": "0", "ops": "1"}
    assert seen["errors"] == []


def _page(browser: Any, base_url: str) -> Any:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def _join(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("body[data-joined=true]", timeout=30_000)
    return page.evaluate("() => window.podiumMeeting.transport")


def _two_windows(base_url: str, room_id: str) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    args = [a for a in CHROMIUM_ARGS if a != "--disable-quic"]  # WebTransport runs over QUIC
    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            ada, bob = _page(browser, base_url), _page(browser, base_url)
            sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY)
            sign_in(bob, BOB_EMAIL, USER_PASSWORD, COMPANY)
            seen["transports"] = [_join(ada, room_id), _join(bob, room_id)]
            seen["ada"] = ada.evaluate("() => window.podiumMeeting.participantId")
            # Bob keeps the authors of the previews that reach him
            bob.evaluate("""() => { window.previewAuthors = [];
                window.podiumMeeting.addEventListener('whiteboard-preview',
                    ({ detail }) => window.previewAuthors.push(detail.author)); }""")
            for page in (ada, bob):
                page.get_by_role("button", name="Whiteboard", exact=True).click()
                expect(page.locator("#whiteboard")).to_be_visible()

            box = ada.locator("#whiteboard-canvas").bounding_box()
            at = [(box["x"] + x * box["width"] / 1600, box["y"] + y * box["height"] / 900)
                  for x, y in [(200, 200), (400, 260), (600, 300), (800, 420)]]  # fmt: skip
            ada.mouse.move(*at[0])
            ada.mouse.down()
            for point in at[1:]:
                ada.mouse.move(*point, steps=6)
            # the pen is still down: Bob's overlay shows the stroke so far, the board nothing yet
            overlay = bob.locator("#whiteboard-preview")
            expect(overlay).to_have_attribute("data-previews", "1")
            bob.wait_for_function("() => Number(document.getElementById('whiteboard-preview').dataset.points) >= 3")
            seen["while_drawing"] = {
                "previews": overlay.get_attribute("data-previews"),
                "points": overlay.get_attribute("data-points"),
                "ops": bob.locator("#whiteboard-canvas").get_attribute("data-ops") or "0",
                "author": bob.evaluate("() => window.previewAuthors.at(-1)"),
            }
            seen["preview_pixel"] = bob.evaluate(
                "() => [...document.getElementById('whiteboard-preview').getContext('2d')"
                ".getImageData(400, 260, 1, 1).data]"
            )
            ada.mouse.up()  # the committed stroke: ordered and stored, then the preview goes
            expect(bob.locator("#whiteboard-canvas")).to_have_attribute("data-ops", "1")
            expect(overlay).to_have_attribute("data-previews", "0")
            seen["after"] = {
                "previews": overlay.get_attribute("data-previews"),
                "ops": bob.locator("#whiteboard-canvas").get_attribute("data-ops"),
            }
            seen["errors"] = ada.errors + bob.errors
        finally:
            browser.close()
    return seen
