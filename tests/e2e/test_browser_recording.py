"""Recording in the web client (Debian's headless Chromium, fake devices, `podium serve` with its engine
worker): the organizer has a record button, a participant does not; starting shows the recording
indicator to everyone, stopping hides it; the browsers' camera and microphone tracks and the mix are
listed over REST."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    UI_TIMEOUT_MS,
    assert_accessible,
    browser,
    media_server,
    sign_in,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(150)]

BOB = ("bob-rec@acme.example", "Bob Recorded", "bob password")


def joined_page(browser: Any, base_url: str, email: str, password: str, room_id: str) -> Any:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, email, password)
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("body[data-joined=true]")
    return page


def test_record_button_and_indicator(media_server, browser):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Recorded room", "waiting_room": False})
    bob = admin.new_user(BOB[0], BOB[1], BOB[2], [])
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob.user_id}", {"role": "participant"})

    ada = joined_page(browser, media_server.url, ADMIN_EMAIL, ADMIN_PASSWORD, room["id"])
    bobs = joined_page(browser, media_server.url, BOB[0], BOB[2], room["id"])
    record = ada.locator("#record-button")
    expect(record).to_be_visible()
    expect(record).to_have_text("Record")
    expect(bobs.locator("#record-button")).to_be_hidden()
    for page in (ada, bobs):
        expect(page.locator("#recording-indicator")).to_be_hidden()

    # Ada's camera decodes at Bob's before the recording starts, so its keyframe is not what a loaded
    # machine makes the recording wait for
    bobs.wait_for_function(
        """async () => (await window.podiumMeeting.receiverStats()).some(
            (r) => r.kind === "video" && r.framesDecoded > 0)""",
        timeout=30000,
        polling=250,
    )
    record.click()
    for page in (ada, bobs):
        expect(page.locator("#recording-indicator")).to_be_visible()
        expect(page.locator("#recording-indicator")).to_have_attribute("role", "status")
    expect(record).to_have_text("Stop recording")
    expect(record).to_have_attribute("aria-pressed", "true")
    assert_accessible(ada, "recording")
    ada.wait_for_timeout(5000)

    record.click()
    for page in (ada, bobs):
        expect(page.locator("#recording-indicator")).to_be_hidden()
    expect(record).to_have_text("Record")

    [recording] = admin.call("GET", f"/recordings?room_id={room['id']}")["items"]
    assert recording["state"] == "stopped"
    sources = {f["source"] for f in recording["files"]}
    assert {"camera", "microphone", "mixed"} <= sources, recording["files"]
