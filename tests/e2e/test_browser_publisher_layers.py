"""Publishers encode only the simulcast layers somebody consumes, with real browsers: a Chromium
subscriber shows a Chromium publisher's camera in a small tile, and the publisher's top encoding
goes inactive (the server's `layers` frame, applied with setParameters: getParameters and
getStats say so); enlarging the tile turns it on again and the subscriber receives it."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    media_server,
    new_page,
    sign_in,
)
from test_browser_simulcast import inbound, join, outbound, show_tile, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]

ACTIVE = """() => {
    const entry = window.podiumMeeting.media.local.get('camera');
    return entry ? entry.transceiver.sender.getParameters().encodings.map((e) => e.active) : null;
}"""


def active(page: Any) -> list[bool] | None:
    """The publisher's camera encodings' `active` flags, lowest first."""
    return page.evaluate(ACTIVE)


def told(page: Any) -> list[list[int]]:
    """The `layers` frames the page received (their `active`)."""
    return page.evaluate("() => window.layerFrames")


def top_stream(page: Any) -> dict[str, Any]:
    """The publisher's outbound-rtp entry of its full-resolution layer (RID f)."""
    return next((row for row in outbound(page) if row.get("rid") == "f"), {})


def test_the_top_layer_stops_while_nobody_shows_it_large(media_server, browser) -> None:
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Layers"})
    email, name, password = "sue@acme.example", "Sue Small", "sue password"
    user = admin.new_user(email, name, password)
    admin.call("PUT", f"/rooms/{room['id']}/access/{user.user_id}", {"role": "participant"})
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    ada.evaluate("""() => { window.layerFrames = [];
        window.podiumMeeting.addEventListener('layers', (e) => window.layerFrames.push(e.detail.active)); }""")
    sue = new_page(browser, media_server.url)
    sign_in(sue, email, password)
    join(sue, room["id"])
    wait_until(lambda: (active(ada) or [])[-1:] == [True], what=lambda: f"a top layer: {active(ada)}")
    layers = len(active(ada) or [])
    assert layers >= 2, "the fake camera publishes simulcast"

    show_tile(sue, ada_id, 160, 90)  # the lowest layer is all Sue needs: the others stop (after a hold)
    wait_until(
        lambda: active(ada) == [True] + [False] * (layers - 1), what=lambda: f"top off: {active(ada)}, told {told(ada)}"
    )
    # getStats agrees: the full-resolution RTP stream (RID f) is not active
    wait_until(lambda: top_stream(ada).get("active") is False, what=lambda: f"getStats: {outbound(ada)}")
    before = inbound(sue, ada_id)["decoded"]
    wait_until(lambda: inbound(sue, ada_id)["decoded"] > before + 10, what="Sue decodes the low layer")

    show_tile(sue, ada_id, 1280, 720)  # large again: the top layer comes back, and Sue gets it
    wait_until(lambda: (active(ada) or [])[-1:] == [True], what=lambda: f"top on: {active(ada)}")
    wait_until(lambda: top_stream(ada).get("active") is True, what=lambda: f"getStats: {outbound(ada)}")
    low = min(row["width"] for row in outbound(ada) if row["width"]) if outbound(ada) else 0
    wait_until(lambda: inbound(sue, ada_id)["width"] > low, timeout=45, what=lambda: f"Sue up: {inbound(sue, ada_id)}")
    assert not ada.errors and not sue.errors
