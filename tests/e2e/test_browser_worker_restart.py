"""The web client after `kill -9` of the engine worker under `podium serve`: two headless Chromium
participants get `reconnect`, make new peer connections to the restarted worker, and decode each
other's camera and receive each other's microphone again."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import ADMIN_EMAIL, ADMIN_PASSWORD, browser, media_server, new_page, sign_in  # noqa: F401
from test_browser_meeting import diagnose, join, media_flows, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(150)]


def worker_pid(serve_pid: int) -> int:
    """The engine worker `podium serve` runs: its child process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == serve_pid:
            return int(stat.parent.name)
    raise AssertionError("podium serve runs no engine worker")


def count_reconnects(page: Any) -> None:
    page.evaluate("""() => { window.reconnects = 0;
        window.podiumMeeting.addEventListener('reconnect', () => { window.reconnects += 1; }); }""")


def test_media_returns_in_chromium_after_the_worker_is_killed(media_server, browser):
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Crash course"})
    bob_api = admin.new_user("bob@acme.example", "Bob Builder", "bob password")
    admin.call("PUT", f"/rooms/{room['id']}/access/{bob_api.user_id}", {"role": "participant"})
    ada, bob = new_page(browser, media_server.url), new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    sign_in(bob, "bob@acme.example", "bob password")
    ids = {join(ada, room["id"]): ada, join(bob, room["id"]): bob}

    def all_flowing() -> None:
        for receiver_id, receiver in ids.items():
            for sender_id in ids:
                if sender_id != receiver_id:
                    wait_until(
                        lambda r=receiver, s=sender_id: media_flows(r, s),
                        timeout=30,
                        what=lambda r=receiver, s=sender_id, ri=receiver_id: f"media {s} → {ri}: {diagnose(r)}",
                    )

    all_flowing()
    for page in ids.values():
        count_reconnects(page)
    os.kill(worker_pid(media_server.process.pid), signal.SIGKILL)
    for page in ids.values():
        wait_until(lambda p=page: p.evaluate("() => window.reconnects") >= 1, timeout=30, what="reconnect")
    all_flowing()  # the remote tracks of the old connections are gone: these are the new ones
    assert "restarting it" in media_server.log()
    for page in ids.values():
        assert page.errors == []
        page.context.close()
