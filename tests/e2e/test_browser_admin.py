"""The web client's login, room list and administration pages in Debian's headless Chromium, against
`podium serve` (no engine worker: these pages use only the REST API)."""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import ADMIN_EMAIL, ADMIN_PASSWORD, browser, new_page, screenshot, server, sign_in  # noqa: F401
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]


def test_static_files_never_shadow_the_api(server):
    index = httpx.get(server.url + "/")
    assert index.status_code == 200 and "Sign in to Podium" in index.text
    assert index.headers["cache-control"] == "no-cache"
    assert httpx.get(server.url + "/lib/podium.js").headers["content-type"].startswith("text/javascript")
    missing_api = httpx.get(server.url + "/api/v1/nothing-here")
    assert missing_api.status_code == 404 and missing_api.json()["error"]["code"] == "not_found"
    wrong_method = httpx.delete(server.url + "/api/v1/auth/login")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
    missing_file = httpx.get(server.url + "/no-such-page.html")
    assert missing_file.status_code == 404


def test_login_refusal_is_readable_then_the_room_list(server, browser):
    admin = server.admin
    admin.call("POST", "/rooms", {"name": "Board room"})
    admin.call("POST", "/rooms", {"name": "Secret project", "hidden": True})
    admin.new_user("lena@acme.example", "Lena Lister", "lena password", ["list_all_rooms"])

    page = new_page(browser, server.url)
    page.goto("/rooms.html")  # no session: to the login page, and back afterwards
    page.wait_for_url("**/index.html?next=*")
    expect(page.get_by_label("Company", exact=True)).to_be_focused()
    page.get_by_label("Company", exact=True).fill("acme")
    page.get_by_label("Email", exact=True).fill("lena@acme.example")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The company, email or password is not right. Check them and try again."
    )
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    screenshot(page, "login-refused")

    page.get_by_label("Password", exact=True).fill("lena password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/rooms.html")
    expect(page.locator("#rooms tbody tr")).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile("Board room"))).to_be_visible()
    expect(page.get_by_text("Secret project")).to_have_count(0)  # hidden, and Lena has no access to it
    expect(page.get_by_role("link", name="Join Board room")).to_have_attribute(
        "href", re.compile(r"meeting\.html\?room=")
    )
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    screenshot(page, "rooms")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/index.html")
    assert page.errors == []


def test_permission_tree_shows_what_cannot_be_granted_and_why(server, browser):
    admin = server.admin
    admin.new_user("una@acme.example", "Una Useradmin", "una password", ["administrate_users"])
    target = admin.call("POST", "/users", {"email": "tom@acme.example", "name": "Tom Target", "permissions": []})

    page = new_page(browser, server.url)
    sign_in(page, "una@acme.example", "una password")
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/admin.html")
    page.get_by_role("button", name="Manage Tom Target").click()
    tree = page.get_by_role("group", name="Permissions of Tom Target")
    settings = tree.get_by_role("checkbox", name="Manage company settings")
    expect(settings).to_be_disabled()
    expect(settings).to_have_accessible_description("Granting or revoking Manage company settings requires holding it.")
    usernames = tree.get_by_role("checkbox", name="Show all usernames")
    expect(usernames).to_be_disabled()
    expect(usernames).to_have_accessible_description("You can grant or revoke only permissions you hold.")

    users = tree.get_by_role("checkbox", name="Administrate users")
    expect(users).to_be_enabled()
    users.check()
    expect(page.get_by_role("status")).to_have_text("Administrate users granted to Tom Target.")
    listing = page.get_by_role("group", name="Permissions of Tom Target").get_by_role("checkbox", name="List all users")
    expect(listing).to_be_checked()
    expect(listing).to_be_disabled()  # implied by its parent: revoke the parent instead
    expect(listing).to_have_accessible_description("Implied by a parent permission: revoke the parent instead.")
    held = admin.call("GET", f"/users/{target['user']['id']}")["permissions"]
    assert held == ["administrate_users", "list_all_users"]
    screenshot(page, "admin-users")

    # the server's refusal, said as a sentence (lib/messages.js)
    page.get_by_label("Email", exact=True).last.fill("tom@acme.example")
    page.get_by_label("Name", exact=True).last.fill("Tom Again")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("alert")).to_have_text("A user with this email address exists already.")
    assert page.errors == []


def test_invite_user_api_keys_departments_rooms_and_audit(server, browser, tmp_path):
    page = new_page(browser, server.url)
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto("/admin.html#users")
    form = page.get_by_role("form", name="Invite a user")
    form.get_by_label("Email", exact=True).fill("ivy@acme.example")
    form.get_by_label("Name", exact=True).fill("Ivy Invited")
    form.get_by_role("checkbox", name="Create a room").check()
    form.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_have_text("Ivy Invited invited.")
    link = page.get_by_role("group", name="Invitation link for Ivy Invited").locator(".secret").inner_text()
    assert "/index.html#invitation=" in link
    expect(page.get_by_role("row", name=re.compile("Ivy Invited"))).to_contain_text("invited")

    # the invited user sets a password through the link, and is signed in
    guest = new_page(browser, server.url)
    guest.goto(link)
    guest.get_by_label("New password").fill("ivy password")
    guest.get_by_label("Repeat it").fill("ivy password")
    guest.get_by_role("button", name="Set password and sign in").click()
    guest.wait_for_url("**/rooms.html")
    guest.context.close()

    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_focused()
    keys = page.get_by_role("form", name="Issue an API key")
    keys.get_by_label("Name", exact=True).fill("Calendar sync")
    keys.get_by_label("Acts as").select_option(label="Ivy Invited <ivy@acme.example>")
    keys.get_by_role("button", name="Issue key").click()
    secret = page.locator("#api-key-secret").inner_text()
    assert secret.startswith("pdm_")
    assert (
        httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"]
        == "Ivy Invited"
    )
    screenshot(page, "admin-api-keys")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Calendar sync").click()
    expect(page.get_by_role("row", name=re.compile("Calendar sync"))).to_contain_text("revoked")
    assert httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    page.get_by_role("link", name="Departments and rooms").click()
    departments = page.get_by_role("form", name="New department")
    departments.get_by_label("Name", exact=True).fill("Sales")
    departments.get_by_role("button", name="Create department").click()
    expect(page.locator("#departments")).to_contain_text("Sales")
    rooms = page.get_by_role("form", name="Create a room")
    rooms.get_by_label("Name", exact=True).fill("Sales weekly")
    rooms.get_by_label("Department").select_option(label="Sales")
    rooms.get_by_label("Waiting room").check()
    rooms.get_by_role("button", name="Create room").click()
    expect(page.get_by_role("row", name=re.compile("Sales weekly"))).to_contain_text("waiting room")
    page.get_by_role("button", name="Edit Sales weekly").click()
    edit = page.get_by_role("form", name="Room Sales weekly")
    edit.get_by_label("Hidden").check()
    edit.get_by_role("button", name="Save room").click()
    expect(page.get_by_role("status")).to_have_text("Room saved.")
    access = page.get_by_role("form", name="Give access to Sales weekly")
    access.get_by_label("User").select_option(label="Ivy Invited <ivy@acme.example>")
    access.get_by_label("Role").select_option("moderator")
    access.get_by_role("button", name="Give access").click()
    expect(page.get_by_role("row", name=re.compile("Ivy Invited.*moderator"))).to_be_visible()
    # deleting a department that holds a room is refused: the server's reason is shown
    page.get_by_role("button", name="Delete Sales").click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    screenshot(page, "admin-rooms")

    page.get_by_role("link", name="Attendance and audit log").click()
    expect(page.locator("#audit tbody tr").first).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("User invited")
    with page.expect_download() as download_info:
        page.get_by_role("form", name="Filter the audit log").get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "audit-events.csv"
    saved = tmp_path / "audit.csv"
    download.save_as(saved)
    text = saved.read_text()
    assert text.splitlines()[0].startswith("id,") or "action" in text.splitlines()[0]
    assert "api_key" in text
    screenshot(page, "admin-audit")
    assert page.errors == []
