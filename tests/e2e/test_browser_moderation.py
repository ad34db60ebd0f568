"""The moderator panel in real browsers (Debian's headless Chromium, fake devices) against `podium
serve` and its engine worker: mute-all, the floor in presenter mode, a ban and its lifting, and a
hand-over before the organizer leaves — each checked where the others see it (their buttons, the
server's state), with names shown only to those holding Show all usernames."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    media_server,
    new_page,
    open_panel,
    person_action,
    screenshot,
    sign_in,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

MO = ("mo@acme.example", "Mo Moderator", "mo password")
BOB = ("bob.b@acme.example", "Bob Builder", "bob password")


def join(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()  # past the pre-join check
    page.wait_for_selector("body[data-joined=true]")
    return page.evaluate("() => window.podiumMeeting.participantId")


def microphone(page: Any) -> Any:
    return page.locator("#microphone-button")


def sources_on(server: Any, meeting_id: str) -> dict[str, list[str]]:
    """The server's view: participant id → the sources it forwards."""
    meeting = server.admin.call("GET", f"/meetings/{meeting_id}")
    return {p["id"]: p["sources_on"] for p in meeting["participants"]}


def test_a_moderator_mutes_all_gives_the_floor_bans_unbans_and_hands_over(media_server, browser):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Panel"})
    mo = admin.new_user(MO[0], MO[1], MO[2])  # no Show all usernames: moderates by labels
    bob = admin.new_user(BOB[0], BOB[1], BOB[2])
    admin.call("PUT", f"/rooms/{room['id']}/access/{mo.user_id}", {"role": "moderator"})
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob.user_id}", {"role": "participant"})

    ada, mo_page, bob_page = (new_page(browser, media_server.url) for _ in range(3))
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    sign_in(mo_page, MO[0], MO[2])
    sign_in(bob_page, BOB[0], BOB[2])
    ada_id = join(ada, room["id"])
    mo_id = join(mo_page, room["id"])
    bob_id = join(bob_page, room["id"])
    meeting_id = ada.evaluate("() => window.podiumMeeting.meetingId")
    for page in (mo_page, bob_page):
        expect(microphone(page)).to_have_attribute("data-state", "on")
    # names by the rule: Ada holds Show all usernames, Mo does not (Bob is "Participant 3" to him)
    expect(ada.locator(f'#people li[data-participant-id="{bob_id}"] strong')).to_have_text("Bob Builder")
    expect(mo_page.locator(f'#people li[data-participant-id="{bob_id}"] strong')).to_have_text("Participant 3")
    expect(bob_page.locator("#people-count")).to_have_text("3 people in the meeting")

    # mute-all (audio): every microphone but the actor's goes off, at the others and in the engine's plan
    open_panel(ada, "moderation")
    ada.get_by_role("button", name="Mute everyone's microphone").click()
    expect(ada.get_by_role("status")).to_have_text("Every microphone is off.")
    for page in (mo_page, bob_page):
        expect(microphone(page)).to_have_attribute("data-state", "off")
    state = sources_on(media_server, meeting_id)
    assert "microphone" not in state[mo_id] and "microphone" not in state[bob_id], state
    assert "camera" in state[bob_id], state  # audio only
    expect(ada.locator(f'#people li[data-participant-id="{bob_id}"]')).to_contain_text("microphone off")

    # presenter mode: Bob may not speak until given the floor, and is muted when it is taken
    ada.get_by_role("button", name="Presenter mode (only the floor speaks)").click()
    expect(bob_page.locator("#microphone-reason")).to_have_text("Presenter mode: only people with the floor may speak.")
    refused = bob_page.evaluate(
        "() => window.podiumMeeting.setSource('microphone', true).then(() => 'ok', (e) => e.code)"
    )
    assert refused == "floor_required"
    person_action(ada, "Bob Builder", "Give the floor")
    expect(mo_page.locator(f'#people li[data-participant-id="{bob_id}"]')).to_contain_text("has the floor")
    microphone(bob_page).click()
    expect(microphone(bob_page)).to_have_attribute("data-state", "on")
    assert "microphone" in sources_on(media_server, meeting_id)[bob_id]
    screenshot(ada, "moderation-floor")
    person_action(ada, "Bob Builder", "Take the floor")
    expect(microphone(bob_page)).to_have_attribute("data-state", "off")
    expect(mo_page.locator(f'#people li[data-participant-id="{bob_id}"]')).not_to_contain_text("has the floor")
    assert "microphone" not in sources_on(media_server, meeting_id)[bob_id]

    # a ban: Bob is told and leaves everyone's list; the panel lists the ban (a name for Ada, a key for Mo)
    ada.once("dialog", lambda dialog: dialog.accept())
    person_action(ada, "Bob Builder", "Ban")
    expect(bob_page.locator("#ended-message")).to_have_text("A moderator banned you from this room.")
    expect(mo_page.locator(f'#people li[data-participant-id="{bob_id}"]')).to_have_count(0)
    expect(ada.locator("#bans-list")).to_contain_text("Bob Builder")
    assert [b["person"] for b in admin.call("GET", f"/rooms/{room['id']}/bans")["items"]] == [f"u:{bob.user_id}"]
    screenshot(ada, "moderation-banned")
    # while banned, joining again is refused, and only the refusal is shown (a fresh-clone trial saw a
    # stale "Joining…" under it)
    bob_page.goto(f"/meeting.html?room={room['id']}")
    bob_page.get_by_role("button", name="Join the meeting").click()
    expect(bob_page.locator("#error")).to_have_text("You were banned from this room.")
    expect(bob_page.locator("#status")).to_have_text("")
    open_panel(ada, "moderation")
    ada.get_by_role("button", name="Unban Bob Builder").click()
    expect(ada.locator("#bans-list")).to_contain_text("Nobody is banned.")
    assert admin.call("GET", f"/rooms/{room['id']}/bans")["items"] == []
    # the ban was scoped to the room: Bob stayed signed in, and once unbanned he gets back in
    bob_id = join(bob_page, room["id"])
    expect(mo_page.locator(f'#people li[data-participant-id="{bob_id}"]')).to_have_count(1)

    # hand-over: Ada gives the meeting to Mo and leaves; Mo now organizes it
    person_action(ada, "Mo Moderator", "Hand over")
    expect(ada.locator("#ended-message")).to_have_text("You handed the meeting over and left.")
    open_panel(mo_page, "moderation")
    expect(mo_page.get_by_role("button", name="End the meeting for everyone")).to_be_visible()
    assert mo_page.evaluate("() => window.podiumMeeting.self.role") == "organizer"
    expect(bob_page.locator("#people-count")).to_have_text("2 people in the meeting")
    roles = {p["id"]: p["role"] for p in admin.call("GET", f"/meetings/{meeting_id}")["participants"]}
    assert roles == {mo_id: "organizer", bob_id: "participant"} and ada_id not in roles
    screenshot(mo_page, "moderation-handed-over")

    for page in (ada, mo_page, bob_page):
        assert page.errors == []
        page.context.close()
