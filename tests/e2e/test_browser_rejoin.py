"""People come and go in a browser meeting: a reload, a leave and a rejoin, a closed tab that comes
back. Whoever stayed keeps receiving, on the same subscribe connection, everyone who is there
(issue 10: the re-offer after the first m-sections' owner left used to move the BUNDLE group, and
Chromium's subscribe connection went `failed` for good)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    media_server,
    new_page,
    open_panel,
    sign_in,
)
from playwright.sync_api import expect
from test_browser_meeting import diagnose, join, pid_of, received, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]


def sub_state(page: Any) -> str | None:
    return page.evaluate("() => window.podiumMeeting.media.sub && window.podiumMeeting.media.sub.connectionState")


def offered_sdp(page: Any) -> str:
    return page.evaluate(
        "() => { const s = window.podiumMeeting.media.sub;"
        " return s && s.remoteDescription ? s.remoteDescription.sdp : ''; }"
    )


def compact_diagnosis(page: Any) -> str:
    """Short enough to survive a CI log's truncation: the connections, then per received stream its
    counters, then the offer's m-sections (mid, direction, SSRCs) rather than the whole SDP."""
    state = json.loads(diagnose(page))
    rows = [
        f"{r['participantId']}/{r['source']} mid {r['mid']}: {r['packetsReceived']} packets, "
        f"{r['framesDecoded']} frames, {r['totalSamplesReceived']} samples"
        for r in state["received"]
    ]
    sections = []
    for section in offered_sdp(page).split("\r\nm=")[1:]:
        mid = re.search(r"^a=mid:(\S+)", section, re.M)
        direction = re.search(r"^a=(sendonly|recvonly|sendrecv|inactive)", section, re.M)
        ssrcs = sorted(set(re.findall(r"^a=ssrc:(\d+)", section, re.M)))
        sections.append(
            f"{section.split(' ', 1)[0]} mid {mid and mid[1]} {direction and direction[1]} ssrc {','.join(ssrcs)}"
        )
    return (
        f"pub {state['pub']}, sub {state['sub']}, error {state['error']!r}\n  "
        + "\n  ".join(rows)
        + "\n  offer: "
        + "; ".join(sections)
    )


def assert_receives(receiver: Any, sender_id: str, what: str) -> None:
    """The receiver decodes more of the sender's camera and gets more of its microphone, now (growth
    from a sample taken here: counters of a reused receiver may start from anything), and its
    subscribe connection is not `failed`."""

    def sample() -> tuple[float, float]:
        stats = received(receiver, sender_id)
        return (
            stats.get("camera", {}).get("framesDecoded", 0),
            stats.get("microphone", {}).get("totalSamplesReceived", 0),
        )

    first: list[tuple[float, float]] = []

    def grows() -> bool:
        if sub_state(receiver) == "failed":
            raise AssertionError(f"{what}: the subscribe connection failed: {diagnose(receiver)}")
        now = sample()
        if not first or now[0] <= 0 or now[1] <= 0:
            first[:] = [now]
            return False
        return now[0] >= first[0][0] + 5 and now[1] >= first[0][1] + 4800

    wait_until(grows, timeout=25, what=lambda: f"{what}: {compact_diagnosis(receiver)}")
    assert sub_state(receiver) == "connected", diagnose(receiver)


def everyone_receives_everyone(pages: dict[str, Any], step: str) -> None:
    for receiver_id, receiver in pages.items():
        for sender_id in pages:
            if sender_id != receiver_id:
                assert_receives(receiver, sender_id, f"after {step}: {sender_id} → {receiver_id}")


def say(page: Any, text: str) -> None:
    """A chat message to everyone, from the page's chat panel."""
    open_panel(page, "chat")
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def leave(page: Any) -> None:
    page.locator("#leave-button").click()
    expect(page.locator("#ended")).to_be_visible()


@pytest.fixture
def room(media_server) -> dict[str, Any]:
    return media_server.admin.call("POST", "/rooms", {"name": "Drop-in"})


def person(media_server, browser, room: dict[str, Any], name: str) -> tuple[Any, tuple[str, str]]:
    """A signed-in user with access to the room, on a page of their own (not joined yet)."""
    credentials = (f"{name.lower()}@acme.example", f"{name} password")
    user = media_server.admin.new_user(credentials[0], name, credentials[1], ["show_all_usernames"])
    media_server.admin.call("PUT", f"/rooms/{room['id']}/access/{user.user_id}", {"role": "participant"})
    page = new_page(browser, media_server.url)
    sign_in(page, *credentials)
    return page, credentials


@pytest.mark.parametrize("how", ["reload", "leave-and-rejoin"])
def test_the_one_who_stayed_receives_the_one_who_came_back(media_server, browser, room, how) -> None:
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    bob, _ = person(media_server, browser, room, f"Bob{how.replace('-', '')}")
    bob_id = join(bob, room["id"])
    everyone_receives_everyone({ada_id: ada, bob_id: bob}, "both joined")

    # Bob held Ada's first m-sections (the BUNDLE tag); he goes and comes back
    for _ in range(2):  # and again: the second time, his new media reuses the freed m-sections
        if how == "reload":  # the page resumes: the same participant, with new media
            bob.reload()
            bob.wait_for_selector("body[data-joined=true]")
            assert pid_of(bob) == bob_id
        else:
            leave(bob)
            join(bob, room["id"])
        bob_id = pid_of(bob)
        expect(ada.locator(f'figure[data-participant-id="{bob_id}"][data-source="camera"]')).to_have_count(1)
        everyone_receives_everyone({ada_id: ada, bob_id: bob}, f"Bob's {how}")
    # the offer did not grow with the churn (Bob's second media took the m-sections his first freed),
    # none was rejected, and all are in one BUNDLE group still tagged by the first
    sdp = offered_sdp(ada)
    assert sdp.count("\r\nm=") <= 4, sdp
    assert re.search(r"^a=group:BUNDLE 0 1( \d+)*\r?$", sdp, re.M) and not re.search(r"^m=\w+ 0 ", sdp, re.M), sdp
    for page in (ada, bob):
        assert page.errors == []
        page.context.close()


def test_three_windows_reload_leave_rejoin_and_a_closed_tab(media_server, browser, room) -> None:
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    pages = {join(ada, room["id"]): ada}
    bob, _ = person(media_server, browser, room, "Bert")
    cleo, cleo_credentials = person(media_server, browser, room, "Clara")
    pages[join(bob, room["id"])] = bob
    pages[join(cleo, room["id"])] = cleo
    everyone_receives_everyone(pages, "three joined")

    def refresh() -> dict[str, Any]:
        return {pid_of(page): page for page in pages.values()}

    # what was said before a reload is in the chat after it, once each and in order (found by a
    # fresh-clone trial: a reloaded page's chat was empty)
    said = ["Before the reload, 1", "Before the reload, 2"]
    for text in said:
        say(ada, text)
        expect(bob.locator("#chat-log")).to_contain_text(text)

    bob.reload()  # the second to join holds the first m-sections of the third's offer
    bob.wait_for_selector("body[data-joined=true]")
    pages = refresh()
    everyone_receives_everyone(pages, "Bert's reload")
    expect(bob.locator("#chat-log li")).to_have_text([re.compile(re.escape(t)) for t in said])
    said.append("After the reload")
    say(ada, said[-1])
    expect(bob.locator("#chat-log li")).to_have_text([re.compile(re.escape(t)) for t in said])

    leave(cleo)
    cleo_id = join(cleo, room["id"])
    pages = refresh()
    assert cleo_id in pages
    everyone_receives_everyone(pages, "Clara's leave and rejoin")

    # Clara closes her tab, and comes back a moment later in a new one
    cleo.context.close()
    pages = {pid: page for pid, page in pages.items() if page is not cleo}
    ada.wait_for_timeout(3000)
    cleo = new_page(browser, media_server.url)
    sign_in(cleo, *cleo_credentials)
    pages[join(cleo, room["id"])] = cleo
    everyone_receives_everyone(pages, "Clara's new tab")

    for page in pages.values():
        assert page.errors == []
        page.context.close()
