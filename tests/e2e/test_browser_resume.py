"""The web client resumes by itself (docs/signaling.md, "Resuming"), in headless Chromium through
`podium serve` and its engine worker: a reloaded page comes back as the same participant (the other
window shows the same id, no one left), and a page whose network drops shows "Reconnecting…", resumes
when the network is back, and hides it; after each, media flows both ways again."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import ADMIN_EMAIL, ADMIN_PASSWORD, browser, media_server, new_page, screenshot, sign_in  # noqa: F401
from playwright.sync_api import expect
from test_browser_meeting import join, pid_of
from test_browser_rejoin import assert_receives

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]


def both_ways(ada: Any, ada_id: str, bob: Any, bob_id: str, step: str) -> None:
    assert_receives(ada, bob_id, f"{step}: Bob → Ada")
    assert_receives(bob, ada_id, f"{step}: Ada → Bob")


def left_events(page: Any) -> list[str]:
    return page.evaluate("() => window.leftEvents")


def test_a_reloaded_page_and_a_dropped_network_resume_the_same_participant(media_server, browser) -> None:
    room = media_server.admin.call("POST", "/rooms", {"name": "Resume"})
    bob_user = media_server.admin.new_user("bob@acme.example", "Bob Builder", "bob password", ["show_all_usernames"])
    media_server.admin.call("PUT", f"/rooms/{room['id']}/access/{bob_user.user_id}", {"role": "participant"})
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    ada.evaluate(
        """() => { window.leftEvents = []; window.podiumMeeting.addEventListener('participant-left',
            (e) => window.leftEvents.push(e.detail.participant_id)); }"""
    )
    bob = new_page(browser, media_server.url)
    sign_in(bob, "bob@acme.example", "bob password")
    bob_id = join(bob, room["id"])
    bob_tile = ada.locator(f'figure[data-participant-id="{bob_id}"][data-source="camera"]')
    expect(bob_tile).to_have_count(1)
    both_ways(ada, ada_id, bob, bob_id, "joined")

    # a reload: the page joins with the resume token it kept in sessionStorage
    bob.reload()
    bob.wait_for_selector("body[data-joined=true]")
    assert pid_of(bob) == bob_id
    expect(bob.locator("#reconnecting")).to_be_hidden()
    expect(ada.locator(f'#people li[data-participant-id="{bob_id}"]')).to_contain_text("Bob Builder")
    expect(ada.locator("#people li")).to_have_count(2)  # no second Bob, no ghost
    expect(bob_tile).to_have_count(1)
    both_ways(ada, ada_id, bob, bob_id, "Bob's reload")

    # the network drops: the signaling socket goes (Chromium's offline mode keeps open sockets, so
    # the test ends it) and no new one can be opened; the page says so, and resumes once it is back
    bob.evaluate(
        """() => { window.resumes = []; window.podiumMeeting.addEventListener('reconnected',
            (e) => window.resumes.push(e.detail.media)); }"""
    )
    bob.context.set_offline(True)
    bob.evaluate("() => window.podiumMeeting.signaling._ws.close()")
    expect(bob.locator("#reconnecting")).to_be_visible()
    expect(bob.locator("#reconnecting")).to_have_text("Reconnecting…")
    assert bob.evaluate("() => document.body.dataset.connection") == "reconnecting"
    screenshot(bob, "meeting-reconnecting")
    bob.context.set_offline(False)
    expect(bob.locator("#reconnecting")).to_be_hidden(timeout=20_000)
    assert bob.evaluate("() => document.body.dataset.connection") == "connected"
    assert pid_of(bob) == bob_id
    assert bob.evaluate("() => window.resumes") == ["kept"]  # its peer connections stayed up
    both_ways(ada, ada_id, bob, bob_id, "Bob's network drop")
    screenshot(ada, "meeting-after-resume")

    assert left_events(ada) == []  # Bob never left, for Ada
    expect(ada.locator("#people li")).to_have_count(2)
    for page in (ada, bob):
        assert page.errors == []
        page.context.close()


def test_leave_still_leaves_at_once(media_server, browser) -> None:
    room = media_server.admin.call("POST", "/rooms", {"name": "Leaving"})
    carl = media_server.admin.new_user("carl@acme.example", "Carl", "carl password", ["show_all_usernames"])
    media_server.admin.call("PUT", f"/rooms/{room['id']}/access/{carl.user_id}", {"role": "participant"})
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    join(ada, room["id"])
    page = new_page(browser, media_server.url)
    sign_in(page, "carl@acme.example", "carl password")
    carl_id = join(page, room["id"])
    expect(ada.locator(f'#people li[data-participant-id="{carl_id}"]')).to_have_count(1)
    page.locator("#leave-button").click()
    expect(page.locator("#ended")).to_be_visible()
    expect(ada.locator(f'#people li[data-participant-id="{carl_id}"]')).to_have_count(0)  # no grace for a leave
    assert not page.evaluate("() => Object.keys(sessionStorage).some((k) => k.startsWith('podium.resume.'))")
    # joining again is a new participant
    assert join(page, room["id"]) != carl_id
    for p in (ada, page):
        assert p.errors == []
        p.context.close()
