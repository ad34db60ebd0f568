"""The stage's tools in real browsers (Debian's headless Chromium, fake devices) against `podium serve`:
the whiteboard drawn with the mouse and seen by the other page, a revoked whiteboard right disabling
the tools at once, a settings request shared on consent, and remote control of a shared screen
allowed, pointed at and stopped by the participant. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    UI_TIMEOUT_MS,
    browser,
    media_server,
    open_panel,
    screenshot,
    sign_in,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

LAPTOP = {"width": 1280, "height": 800}
BOB = ("bob.board@acme.example", "Bob Board", "bob password")


def page_at(browser: Any, base_url: str) -> Any:
    context = browser.new_context(base_url=base_url, viewport=LAPTOP)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def join(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("body[data-joined=true]")
    return page.evaluate("() => window.podiumMeeting.participantId")


def board_pixel(page: Any, x: int, y: int) -> list[int]:
    """The whiteboard canvas's pixel at board coordinates (x, y)."""
    return page.evaluate(
        "([x, y]) => [...document.getElementById('whiteboard-canvas').getContext('2d').getImageData(x, y, 1, 1).data]",
        [x, y],
    )


def drag(page: Any, points: list[tuple[float, float]]) -> None:
    """Drag the mouse through board coordinates (the canvas is 1600 × 900, scaled to fit)."""
    box = page.locator("#whiteboard-canvas").bounding_box()
    at = [(box["x"] + x * box["width"] / 1600, box["y"] + y * box["height"] / 900) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for point in at[1:]:
        page.mouse.move(*point, steps=4)
    page.mouse.up()


def overlapping_tools(page: Any) -> list[tuple[str, str]]:
    """Pairs (whiteboard control, stage tool) whose boxes overlap: a stage tool covering a drawing tool."""
    return page.evaluate("""() => {
        const boxes = (selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null)
            .map((e) => [e.id || e.textContent.trim() || e.tagName, e.getBoundingClientRect()]);
        const stage = boxes('#stage-tools button, #stage-tools summary');
        const pairs = [];
        for (const [name, a] of boxes('.wb-tools button, .wb-tools select, .wb-tools input')) {
            for (const [other, b] of stage) {
                const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
                if (!apart) pairs.push([name, other]);
            }
        }
        return pairs;
    }""")


def test_whiteboard_revocation_settings_request_and_remote_control(media_server, browser):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Board room", "screen_share": True})
    bob = admin.new_user(BOB[0], BOB[1], BOB[2], ["show_all_usernames"])
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob.user_id}", {"role": "participant"})
    ada = page_at(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    join(ada, room["id"])
    bobs = page_at(browser, media_server.url)
    sign_in(bobs, BOB[0], BOB[2])
    bob_id = join(bobs, room["id"])

    # both open the whiteboard; Ada draws a line with the mouse, Bob sees it drawn on his canvas
    for page in (ada, bobs):
        page.get_by_role("button", name="Whiteboard", exact=True).click()
        expect(page.locator("#whiteboard")).to_be_visible()
    drag(ada, [(200, 200), (400, 250), (600, 300)])
    expect(bobs.locator("#whiteboard-canvas")).to_have_attribute("data-ops", "1")
    assert board_pixel(bobs, 400, 250)[:3] == [0x1A, 0x73, 0xE8]
    # a rectangle from Ada, text from Bob, then Bob's undo takes back his own text only
    ada.get_by_role("button", name="Rectangle").click()
    drag(ada, [(800, 150), (1100, 400)])
    bobs.get_by_role("button", name="Text").click()
    box = bobs.locator("#whiteboard-canvas").bounding_box()
    bobs.mouse.click(box["x"] + 300 * box["width"] / 1600, box["y"] + 600 * box["height"] / 900)
    bobs.locator("#whiteboard-text").fill("Ideas for Monday")
    bobs.locator("#whiteboard-text").press("Enter")
    expect(ada.locator("#whiteboard-canvas")).to_have_attribute("data-ops", "3")
    screenshot(ada, "whiteboard-laptop-drawing")
    # with a side panel open the stage narrows: the drawing tools wrap clear of the stage's own tools
    assert overlapping_tools(ada) == []
    open_panel(ada, "chat")
    assert overlapping_tools(ada) == []
    screenshot(ada, "whiteboard-laptop-with-chat")
    ada.locator("#chat-toggle").click()
    bobs.get_by_role("button", name="Undo").click()
    expect(ada.locator("#whiteboard-canvas")).to_have_attribute("data-ops", "4")
    assert board_pixel(ada, 400, 250)[:3] == [0x1A, 0x73, 0xE8]  # Ada's line stays
    expect(bobs.locator("#whiteboard-clear")).to_be_hidden()  # clearing is for moderators
    expect(ada.locator("#whiteboard-clear")).to_be_visible()

    # a revoked right: Bob's tools disable themselves at once, and the board stays visible to him
    ada.locator("#participant-requests summary").click()
    ada.locator("#request-target").select_option(bob_id)
    ada.get_by_role("button", name="Turn their whiteboard off").click()
    expect(bobs.locator("#whiteboard")).to_have_attribute("data-allowed", "false")
    expect(bobs.get_by_role("button", name="Pen")).to_be_disabled()
    expect(bobs.locator("#whiteboard-note")).to_contain_text("turned off the whiteboard")
    screenshot(bobs, "whiteboard-laptop-revoked")
    for page in (ada, bobs):
        page.get_by_role("button", name="Whiteboard", exact=True).click()
        expect(page.locator("#whiteboard")).to_be_hidden()

    expect(ada.get_by_role("button", name="Turn their whiteboard on")).to_be_visible()

    # Ada asks for Bob's settings; he consents; only she sees the report
    ada.get_by_role("button", name="Ask for their settings").click()
    consent = bobs.get_by_role("alertdialog")
    expect(consent).to_contain_text("asks to see your devices and capture settings")
    screenshot(bobs, "settings-request-consent")
    consent.get_by_role("button", name="Share my settings").click()
    expect(ada.locator("#request-results")).to_contain_text("Bob Board shared: microphone:")
    expect(ada.locator("#request-results")).to_contain_text("camera: 640×480")
    screenshot(ada, "settings-request-report")

    # remote control: Bob shares his screen, allows control; Ada's pointer shows on his page; he stops it
    bobs.locator("#screen-button").click()
    screen = ada.locator(f'figure[data-participant-id="{bob_id}"][data-source="screen"]')
    expect(screen).to_have_attribute("data-video", "on", timeout=20_000)
    ada.get_by_role("button", name="Ask to control their screen").click()
    bobs.get_by_role("alertdialog").get_by_role("button", name="Allow control").click()
    expect(ada.locator("#controlling-banner")).to_be_visible()
    expect(screen).to_have_attribute("data-controlled", "true")
    video = screen.locator("video").bounding_box()
    ada.mouse.move(video["x"] + video["width"] * 0.3, video["y"] + video["height"] * 0.6, steps=5)
    pointer = bobs.locator("#remote-pointer")
    expect(pointer).to_be_visible()
    assert int(pointer.get_attribute("data-seq")) >= 1
    expect(bobs.locator("#control-banner")).to_contain_text("controls your shared screen")
    screenshot(bobs, "remote-control-participant")
    screenshot(ada, "remote-control-moderator")
    bobs.get_by_role("button", name="Stop remote control").click()
    expect(ada.locator("#controlling-banner")).to_be_hidden()
    expect(pointer).to_be_hidden()
    expect(ada.locator("#request-results")).to_contain_text("ended (by them)")
    assert ada.errors == [] and bobs.errors == []
