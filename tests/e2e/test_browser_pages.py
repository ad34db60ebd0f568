"""Every page as a person meets it, in Debian's headless Chromium at a laptop's 1280×800 and a phone's 390×844:
sign-in (by the company's name), errors said in sentences, the administration pages (no page wider than the
screen, the audit log naming people), an HTML page for an unknown address, the guest's invitation page, and
one sign-in shared by the tabs of a browser, where a second tab of the same person takes the meeting over and
the first says so. axe-core checks each page; screenshots of each go to artifacts/screenshots/page-*."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    UI_TIMEOUT_MS,
    assert_accessible,
    assert_fits,
    browser,
    media_server,
    not_allowed_contrasts,
    screenshot,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SECTIONS = ("users", "api-keys", "rooms", "invitations", "reports")
RAW = re.compile(r"nothing at|invalid body|String should|validation_failed|not_found|\{\"error\"")


def context_at(browser: Any, base_url: str, size: str) -> Any:
    context = browser.new_context(base_url=base_url, viewport=SIZES[size])
    context.set_default_timeout(UI_TIMEOUT_MS)
    return context


def page_in(context: Any) -> Any:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def sign_in_as(page: Any, company: str, email: str, password: str) -> None:
    page.goto("/index.html")
    page.get_by_label("Company", exact=True).fill(company)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def join_from_prejoin(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("body[data-joined=true]")
    return page.evaluate("() => window.podiumMeeting.participantId")


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_sign_in_by_name_errors_in_sentences_admin_pages_and_404(media_server, browser, size):
    admin = media_server.admin
    if admin.call("GET", "/company")["name"] != "Acme Rockets":
        admin.call("PATCH", "/company", {"name": "Acme Rockets"})
    room = admin.call("POST", "/rooms", {"name": f"Board {size}"})
    context = context_at(browser, media_server.url, size)
    page = page_in(context)

    # sign-in: a wrong password is a sentence, not the server's words
    page.goto("/index.html")
    assert_accessible(page, "sign-in")
    assert_fits(page, "sign-in")
    screenshot(page, f"page-{size}-sign-in")
    sign_in_as(page, "Acme Rockets", ADMIN_EMAIL, "not the password")
    expect(page.get_by_role("alert")).to_have_text(
        "The company, email or password is not right. Check them and try again."
    )
    screenshot(page, f"page-{size}-sign-in-error")
    assert_accessible(page, "sign-in with an error")
    # the company's display name, in any case, signs in (the slug is "acme")
    page.get_by_label("Company", exact=True).fill("ACME rockets")
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/rooms.html")
    expect(page.get_by_text(room["name"])).to_be_visible()
    assert_accessible(page, "rooms")
    assert_fits(page, "rooms")
    screenshot(page, f"page-{size}-rooms")

    # the administration pages: no wider than the screen, accessible
    for section in SECTIONS:
        page.goto(f"/admin.html#{section}")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_load_state("networkidle")
        assert_fits(page, f"admin {section}")
        assert_accessible(page, f"admin {section}")
        assert RAW.search(page.locator("main").inner_text()) is None
        screenshot(page, f"page-{size}-admin-{section}")
        for text, ratio in not_allowed_contrasts(page):
            assert ratio >= 4.5, (section, text, ratio)

    # a user's detail: its buttons look like the page's buttons (not the meeting's dark control bar)
    page.goto("/admin.html#users")
    page.reload()
    page.get_by_role("button", name="Manage").first.click()
    reset = page.get_by_role("button", name="Reset password")
    expect(reset).to_be_visible()
    background = reset.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert background in ("rgb(244, 246, 248)",), background  # var(--panel)
    assert_fits(page, "user detail")
    assert_accessible(page, "user detail")
    screenshot(page, f"page-{size}-admin-user-detail")

    # the audit log names who did what to whom, and summarises the change (no ids, no JSON)
    page.goto("/admin.html#reports")
    page.reload()
    audit = page.locator("#audit")
    expect(audit).to_contain_text("Ada Admin")
    expect(audit).to_contain_text(f"Room {room['name']}")
    expect(audit).to_contain_text("Company Acme Rockets")
    text = audit.inner_text()
    assert room["id"] not in text and admin.call("GET", "/me")["id"] not in text and "{" not in text
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= SIZES[size]["width"]

    # a meeting link to a room that is not there: a sentence, never "nothing at /api/v1/rooms/…"
    page.goto("/meeting.html?room=r_no_such_room")
    expect(page.get_by_role("alert")).to_contain_text("This meeting link does not lead to a room you can enter")
    assert RAW.search(page.locator("body").inner_text()) is None
    screenshot(page, f"page-{size}-meeting-link-broken")

    # the page an invited user sets a password on
    invited = admin.call("POST", "/users", {"email": f"ivy.{size}@acme.example", "name": "Ivy Invited"})
    signed_out = page_in(browser.new_context(base_url=media_server.url, viewport=SIZES[size]))
    signed_out.goto(f"/index.html#invitation={invited['invitation_token']}")
    expect(signed_out.get_by_role("heading", name="Set your password")).to_be_visible()
    assert_accessible(signed_out, "set your password")
    assert_fits(signed_out, "set your password")
    screenshot(signed_out, f"page-{size}-set-password")
    signed_out.context.close()

    # an unknown page: HTML for people (the API keeps its JSON)
    response = page.goto("/no/such/page")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="This page does not exist")).to_be_visible()
    assert_accessible(page, "404")
    assert_fits(page, "404")
    screenshot(page, f"page-{size}-not-found")
    api = httpx.get(media_server.url + "/api/v1/no/such/thing", timeout=10)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert page.errors == []
    context.close()


def test_tabs_share_the_sign_in_and_a_second_tab_takes_the_meeting_over(media_server, browser):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Tabs"})
    context = context_at(browser, media_server.url, "laptop")
    first = page_in(context)
    sign_in_as(first, "acme", ADMIN_EMAIL, ADMIN_PASSWORD)
    first.wait_for_url("**/rooms.html")
    # the session is in storage the tabs share; resume tokens stay per tab
    assert first.evaluate("() => Boolean(localStorage.getItem('podium.tokens'))")
    assert first.evaluate("() => sessionStorage.getItem('podium.tokens')") is None
    pid = join_from_prejoin(first, room["id"])
    assert first.evaluate("() => Object.keys(sessionStorage).some((k) => k.startsWith('podium.resume.'))")

    # Bob watches from his own browser (a phone): he sees Ada once, throughout
    bob_context = context_at(browser, media_server.url, "phone")
    bob = page_in(bob_context)
    bob_api = admin.new_user("bob.tabs@acme.example", "Bob Tabs", "bob password", ["show_all_usernames"])
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob_api.user_id}", {"role": "participant"})
    sign_in_as(bob, "acme", "bob.tabs@acme.example", "bob password")
    bob.wait_for_url("**/rooms.html")
    join_from_prejoin(bob, room["id"])
    people = bob.locator("#people li")

    # a meeting link opened in a second tab: no sign-in again, and it takes Ada's participant over
    second = page_in(context)
    second.goto(f"/meeting.html?room={room['id']}")
    expect(second.get_by_role("button", name="Join the meeting")).to_be_visible()
    assert "meeting.html" in second.url  # not sent back to sign-in
    second.get_by_role("button", name="Join the meeting").click()
    second.wait_for_selector("body[data-joined=true]")
    assert second.evaluate("() => window.podiumMeeting.participantId") == pid
    # the first tab says why it stopped, and does not reconnect
    notice = first.locator("#ended-message")
    expect(notice).to_have_text("You joined this meeting from another tab or window, so it was closed here.")
    expect(first.locator("#reconnecting")).to_be_hidden()
    join_here = first.get_by_role("button", name="Use the meeting in this tab")
    expect(join_here).to_be_visible()
    assert_accessible(first, "joined from another tab")
    screenshot(first, "page-laptop-joined-elsewhere")
    first.set_viewport_size(SIZES["phone"])
    assert_fits(first, "joined from another tab, phone")
    screenshot(first, "page-phone-joined-elsewhere")
    first.set_viewport_size(SIZES["laptop"])
    # Bob sees one Ada, never two
    bob.locator("#people-toggle").click()
    expect(people.filter(has_text="Ada Admin")).to_have_count(1)
    screenshot(bob, "page-phone-meeting-people")
    screenshot(second, "page-laptop-meeting")
    assert len({p["participant_id"] for p in admin_meeting_people(bob)}) == 2

    # the first tab takes it back: now the second one shows the notice
    first.wait_for_timeout(300)
    join_here.click()
    first.get_by_role("button", name="Join the meeting").click()
    first.wait_for_selector("body[data-joined=true]")
    expect(second.locator("#ended-message")).to_contain_text("from another tab")
    expect(people.filter(has_text="Ada Admin")).to_have_count(1)
    for page in (first, second, bob):
        assert page.errors == [], page.errors
    context.close()
    bob_context.close()


def admin_meeting_people(page: Any) -> list[dict[str, Any]]:
    """The participants as the page's meeting client holds them."""
    return page.evaluate(
        "() => [...window.podiumMeeting.participants.values()].map((p) => ({ participant_id: p.id, name: p.name }))"
    )


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_guest_page_is_accessible_and_not_allowed_buttons_readable(media_server, browser, size):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": f"Guests {size}", "waiting_room": True})
    issued = admin.call(
        "POST", f"/rooms/{room['id']}/invitations", {"invitee_name": "Gus Guest", "rights": ["microphone", "chat"]}
    )
    # someone to wait for: the organizer is in
    host = page_in(context_at(browser, media_server.url, "laptop"))
    sign_in_as(host, "acme", ADMIN_EMAIL, ADMIN_PASSWORD)
    host.wait_for_url("**/rooms.html")
    join_from_prejoin(host, room["id"])

    guest = page_in(context_at(browser, media_server.url, size))
    guest.goto(f"/join.html#invitation={issued['invitation']}")
    expect(guest.get_by_label("Your name")).to_have_value("Gus Guest")
    guest.wait_for_function("() => document.getElementById('preview')?.videoWidth > 0")
    assert_accessible(guest, "guest invitation page")
    assert_fits(guest, "guest invitation page")
    screenshot(guest, f"page-{size}-guest-invitation")
    guest.get_by_role("button", name="Join the meeting").click()
    expect(guest.locator("#waiting-notice")).to_be_visible()
    # no camera right: the camera button says "not allowed", readable (contrast ≥ 4.5:1)
    expect(guest.locator("#camera-button")).to_have_attribute("aria-disabled", "true")
    contrasts = not_allowed_contrasts(guest)
    assert any("Camera" in text for text, _ in contrasts), contrasts
    for text, ratio in contrasts:
        assert ratio >= 4.5, (text, ratio)
    assert_accessible(guest, "guest in the waiting room")
    screenshot(guest, f"page-{size}-guest-waiting")
    # a broken invitation link: a sentence
    broken = page_in(guest.context)
    broken.goto("/join.html#invitation=not-a-real-invitation")
    expect(broken.get_by_role("alert")).not_to_be_empty()
    assert RAW.search(broken.locator("body").inner_text()) is None
    screenshot(broken, f"page-{size}-guest-link-broken")
    for page in (host, guest, broken):
        assert page.errors == [], page.errors
    host.context.close()
    guest.context.close()
