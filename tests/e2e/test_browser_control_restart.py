"""`podium serve` restarted under a meeting of two Chromium windows (docs/signaling.md, "A control-plane
restart"): both pages show "Reconnecting…", resume as the same participants once it is back (their
worker restarted with it: they publish again), and media flows both ways; a microphone revoked
before the restart stays revoked."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import ADMIN_EMAIL, ADMIN_PASSWORD, browser, media_server, new_page, screenshot, sign_in  # noqa: F401
from playwright.sync_api import expect
from test_browser_meeting import join, pid_of, received, wait_until
from test_browser_rejoin import assert_receives
from test_browser_resume import both_ways

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]


def camera_grows(receiver: Any, sender_id: str, what: str) -> None:
    """The receiver decodes more and more frames of the sender's camera."""
    first = received(receiver, sender_id).get("camera", {}).get("framesDecoded", 0)
    wait_until(
        lambda: received(receiver, sender_id).get("camera", {}).get("framesDecoded", 0) >= first + 5,
        timeout=25,
        what=what,
    )


def test_a_meeting_survives_a_restart_of_podium_serve(media_server, browser) -> None:
    room = media_server.admin.call("POST", "/rooms", {"name": "Restart"})
    bob_user = media_server.admin.new_user("bob@acme.example", "Bob Builder", "bob password", ["show_all_usernames"])
    media_server.admin.call("PUT", f"/rooms/{room['id']}/access/{bob_user.user_id}", {"role": "participant"})
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    bob = new_page(browser, media_server.url)
    sign_in(bob, "bob@acme.example", "bob password")
    bob_id = join(bob, room["id"])
    both_ways(ada, ada_id, bob, bob_id, "joined")
    screenshot(ada, "meeting-before-control-plane-restart")
    meeting_id = ada.evaluate("() => window.podiumMeeting.meetingId")
    media_server.admin.call(
        "POST",
        f"/meetings/{meeting_id}/actions",
        {"action": "revoke_permission", "target": bob_id, "capability": "microphone"},
    )
    expect(bob.locator("#microphone-button")).to_have_attribute("data-state", "revoked")
    for page in (ada, bob):
        page.evaluate(
            """() => { window.resumes = []; window.podiumMeeting.addEventListener('reconnected',
                (e) => window.resumes.push(e.detail.media)); }"""
        )

    stopped = media_server.restart()
    assert stopped < 10, media_server.log()
    for page in (ada, bob):
        expect(page.locator("#reconnecting")).to_be_hidden(timeout=20_000)
        assert page.evaluate("() => document.body.dataset.connection") == "connected"
        assert page.evaluate("() => window.resumes") == ["renew"]  # the worker restarted with it
    assert (pid_of(ada), pid_of(bob)) == (ada_id, bob_id)
    expect(ada.locator("#people li")).to_have_count(2)
    expect(bob.locator("#microphone-button")).to_have_attribute("data-state", "revoked")
    meeting = media_server.admin.call("GET", f"/meetings/{meeting_id}")
    who = {p["id"]: p for p in meeting["participants"]}
    assert who[ada_id]["role"] == "organizer" and "microphone" not in who[bob_id]["capabilities"]
    assert "microphone" not in who[bob_id]["sources_on"]
    assert_receives(bob, ada_id, "after the restart: Ada → Bob")
    camera_grows(ada, bob_id, "after the restart: Bob's camera → Ada")
    screenshot(ada, "meeting-after-control-plane-restart")
    for page in (ada, bob):
        assert page.errors == []
        page.context.close()
