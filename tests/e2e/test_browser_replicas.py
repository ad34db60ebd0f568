"""The web client with two control-plane replicas (docs/signaling.md, "Replicas"): a page served by
replica b joins a meeting replica a runs (it follows `meeting_elsewhere` to a), and decodes the other
page's media; replica a is killed (SIGKILL), and that page comes back through b, its home, which has
taken the meeting over: the same participant, new peer connections, media with a page that joins
through b."""

from __future__ import annotations

import time
from typing import Any

import pytest
from browser_fixtures import Api, browser, new_page, sign_in  # noqa: F401
from playwright.sync_api import expect
from podium_client import ADMIN_EMAIL, ADMIN_PASSWORD, COMPANY
from replica_fixtures import replicas  # noqa: F401
from test_browser_meeting import join, pid_of
from test_browser_resume import both_ways

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(240)]


def signaling_url(page: Any) -> str:
    return page.evaluate("() => window.podiumMeeting.url")


def test_a_page_follows_the_meeting_to_its_replica_and_back_after_a_takeover(replicas, browser) -> None:
    a, b = replicas
    admin = Api(a.url).login(ADMIN_EMAIL, ADMIN_PASSWORD, company=COMPANY)
    room = admin.call("POST", "/rooms", {"name": "Replicas"})
    bob_user = admin.new_user("bob@podium.test", "Bob Builder", "bob password", ["show_all_usernames"], COMPANY)
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob_user.user_id}", {"role": "participant"})

    ada = new_page(browser, a.url)  # served by a: the meeting opens there
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD, company=COMPANY)
    ada_id = join(ada, room["id"])
    bob = new_page(browser, b.url)  # served by b, which sends Bob's join to a
    sign_in(bob, "bob@podium.test", "bob password", company=COMPANY)
    bob_id = join(bob, room["id"])
    assert signaling_url(ada) == a.ws_url and signaling_url(bob) == a.ws_url
    assert bob.evaluate("() => window.podiumMeeting.meetingId") == ada.evaluate("() => window.podiumMeeting.meetingId")
    both_ways(ada, ada_id, bob, bob_id, "Bob joined through b")
    bob.evaluate(
        """() => { window.resumes = []; window.podiumMeeting.addEventListener('reconnected',
            (e) => window.resumes.push(e.detail.media)); }"""
    )

    a.process.kill()  # SIGKILL: its worker dies with it; Ada's page loses its server
    killed = time.monotonic()
    expect(bob.locator("#reconnecting")).to_be_visible(timeout=10_000)
    expect(bob.locator("#reconnecting")).to_be_hidden(timeout=40_000)
    print(f"Bob's page resumed through b {time.monotonic() - killed:.1f} s after the SIGKILL")
    assert bob.evaluate("() => window.resumes") == ["renew"]  # b's worker: new peer connections
    assert signaling_url(bob) == b.ws_url and pid_of(bob) == bob_id
    ada.context.close()

    ada_again = new_page(browser, b.url)
    sign_in(ada_again, ADMIN_EMAIL, ADMIN_PASSWORD, company=COMPANY)
    ada_again_id = join(ada_again, room["id"])
    assert signaling_url(ada_again) == b.ws_url
    both_ways(ada_again, ada_again_id, bob, bob_id, "after the takeover")
    for page in (ada_again, bob):
        assert page.errors == []
        page.context.close()
