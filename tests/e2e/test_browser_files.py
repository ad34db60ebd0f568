"""Files in the meeting page, in Debian's headless Chromium: a file shared from the chat panel reaches the
other browser as a download, a moderator's material is listed and downloadable, and a revoked `files`
permission disables the file picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    media_server,
    new_page,
    open_panel,
    sign_in,
)
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]


def join(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click()
    page.wait_for_selector("body[data-joined=true]")
    return page.evaluate("() => window.podiumMeeting.participantId")


def downloaded(page: Any, button: Any) -> bytes:
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def test_share_download_materials_and_a_revoked_files_permission(media_server, browser, tmp_path) -> None:
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Files room"})
    bob_api = admin.new_user("bob.files@acme.example", "Bob Files", "bob password", ["show_all_usernames"])
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob_api.user_id}", {"role": "participant"})

    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    join(ada, room["id"])
    bob = new_page(browser, media_server.url)
    sign_in(bob, "bob.files@acme.example", "bob password")
    join(bob, room["id"])

    # the moderator adds a material from the chat panel; Bob, present, sees it and downloads it
    agenda = tmp_path / "Agenda.pdf"
    agenda.write_bytes(b"%PDF-1.4\nthe agenda\n")
    open_panel(ada, "chat")
    ada.locator("#material-file").set_input_files(str(agenda))
    expect(ada.get_by_role("status")).to_contain_text("Agenda.pdf was added to the materials")
    open_panel(bob, "chat")
    material = bob.get_by_role("button", name="Download Agenda.pdf")
    expect(material).to_be_visible()
    assert downloaded(bob, material) == agenda.read_bytes()
    expect(bob.locator("#material-file")).to_be_hidden()  # participants do not add materials here

    # Bob shares a file with everyone from the chat panel; Ada downloads it from the chat log
    notes = tmp_path / "notes.txt"
    notes.write_text("minutes: files work\n")
    bob.locator("#chat-file").set_input_files(str(notes))
    expect(bob.get_by_role("status")).to_contain_text("You shared notes.txt")
    line = ada.locator("#chat-log li.file").filter(has_text="Bob Files")
    expect(line).to_contain_text("shared")
    assert downloaded(ada, line.get_by_role("button", name="Download notes.txt")) == notes.read_bytes()

    # a file over the server's limit (100 MB by default) is refused in words that name the limit, and the
    # picker is empty again (it showed the refused file's name as if chosen, and the same file could not be retried)
    huge = tmp_path / "recording.mp4"
    with huge.open("wb") as sparse:
        sparse.truncate(101 * 1024 * 1024)
    bob.locator("#chat-file").set_input_files(str(huge))
    expect(bob.get_by_role("alert").filter(has_text="too large")).to_have_text(
        "This file is too large: a shared file may hold at most 100 MB."
    )
    assert bob.locator("#chat-file").evaluate("(input) => input.files.length") == 0
    expect(ada.locator("#chat-log li.file")).to_have_count(1)  # nothing reached the others

    # the moderator revokes Bob's files permission: his picker is disabled at once, with the reason
    open_panel(ada, "people")
    ada.get_by_role("button", name="Actions for Bob Files").click()
    ada.get_by_role("switch", name="Files permission of Bob Files").click()
    expect(bob.locator("#chat-file")).to_be_disabled()
    expect(bob.locator("#chat-file-note")).to_have_text("A moderator turned file sharing off for you.")
    assert not ada.errors and not bob.errors
