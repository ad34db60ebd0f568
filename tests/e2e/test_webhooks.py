"""Webhook deliveries end to end: a meeting through `podium serve` with a webhook add-in, a local receiver
that verifies every signature with the `standardwebhooks` library, goes down, misses a control-plane
restart, comes back and gets everything, nothing twice under one id."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from harness import loopback_only
from podium_client import Api, Participant, PodiumServer, free_port
from standardwebhooks import Webhook

pytestmark = pytest.mark.timeout(150)

OPTIONS = ("--webhooks-allow-private", "--webhook-retry-base", "0.2", "--resume-grace", "1")


class Receiver:
    """An HTTP endpoint on loopback that records each POST (headers, body) and answers 204; `stop()`
    takes it down (connections refused), `start()` brings it back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/podium"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every delivery received, its signature verified by the library (raises if one fails)."""
        with self.lock:
            received = list(self.received)
        hook = Webhook(secret)
        return [{"id": h["webhook-id"], **hook.verify(body, h)} for h, body in received]


async def wait_for_events(receiver: Receiver, secret: str, wanted: dict[str, int], timeout: float = 30) -> list:
    """The received events once at least `wanted[type]` of each type have arrived."""
    async with asyncio.timeout(timeout):
        while True:
            events = receiver.events(secret)
            counts = {t: sum(e["type"] == t for e in events) for t in wanted}
            if all(counts[t] >= n for t, n in wanted.items()):
                return events
            await asyncio.sleep(0.1)


async def a_meeting(podium: PodiumServer, api: Api, name: str) -> None:
    """A short meeting: the organizer and alice join, the organizer mutes alice, alice shares a file,
    both leave (and the meeting ends)."""
    room = await api.create_room(name)
    user_id, token = await api.create_user("alice")
    await api.grant(room["id"], user_id)
    organizer = await Participant.join(podium, api.token, room["id"])
    alice = await Participant.join(podium, token, room["id"])
    try:
        await organizer.moderate("revoke_permission", target=alice.id, capability="camera")
        async with httpx.AsyncClient(base_url=podium.url) as client:
            shared = await client.post(
                f"/api/v1/meetings/{organizer.joined['meeting_id']}/files",
                params={"participant": alice.id},
                files={"file": ("minutes.txt", b"minutes of the meeting", "text/plain")},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert shared.status_code == 201, shared.text
        await alice.send({"type": "leave"})
        await organizer.wait_event("participant-left", lambda f: f.get("participant_id") == alice.id)
        await organizer.send({"type": "leave"})
    finally:
        await alice.close()
        await organizer.close()


MEETING = {
    "meeting.started": 1,
    "participant.joined": 2,
    "moderation.action": 1,
    "file.uploaded": 1,
    "participant.left": 2,
    "meeting.ended": 1,
}


async def test_signed_deliveries_survive_a_receiver_outage_and_a_restart(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    receiver = Receiver()
    receiver.start()
    data = tmp_path / "podium"
    podium = PodiumServer.start(data, options=OPTIONS)
    try:
        api = Api(podium.url)
        await api.login_admin()
        created = await api.call(
            "POST", "/add-ins", {"name": "Receiver", "kind": "webhook", "url": receiver.url, "secret": True}
        )
        secret, add_in = created["secret"], created["add_in"]["id"]
        assert secret.startswith("whsec_")

        # receiver up: every event of a meeting arrives, signed
        await a_meeting(podium, api, "First")
        events = await wait_for_events(receiver, secret, MEETING)
        by_type = {e["type"]: e for e in events}
        assert by_type["moderation.action"]["data"]["action"] == "revoke_permission"
        assert by_type["moderation.action"]["data"]["capability"] == "camera"
        assert by_type["file.uploaded"]["data"]["name"] == "minutes.txt"
        assert by_type["file.uploaded"]["data"]["content_type"] == "text/plain"
        assert by_type["meeting.ended"]["data"]["meeting_id"] == by_type["meeting.started"]["data"]["meeting_id"]
        first = len(events)

        # a forged or altered delivery does not verify
        headers, body = receiver.received[0]
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(body.replace(b"meeting", b"meetinG"), headers)

        # receiver down: the deliveries wait in the queue, retried with backoff
        receiver.stop()
        await a_meeting(podium, api, "Second")
        async with asyncio.timeout(20):
            while True:
                log = await api.call("GET", f"/add-ins/{add_in}/deliveries?status=pending&limit=200")
                if log["total"] >= sum(MEETING.values()) and all(d["attempts"] >= 2 for d in log["items"]):
                    break
                await asyncio.sleep(0.2)
        assert all(d["last_status"] is None and d["last_error"] for d in log["items"])

        # the control plane restarts while they are owed; the receiver comes back after it
        podium.stop()
        podium = PodiumServer.start(data, options=OPTIONS, bootstrap=False)
        receiver.start()
        api = Api(podium.url)
        await api.login_admin()
        doubled = {t: 2 * n for t, n in MEETING.items()}
        events = await wait_for_events(receiver, secret, doubled, timeout=60)
        await asyncio.sleep(1.5)  # time for anything that would come twice

        # nothing delivered twice under one id; the log says delivered for every one
        events = receiver.events(secret)
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids)) == 2 * sum(MEETING.values()) == len(events)
        assert len(events) - first == sum(MEETING.values())
        log = await api.call("GET", f"/add-ins/{add_in}/deliveries?limit=200")
        assert log["total"] == len(ids) and {d["status"] for d in log["items"]} == {"delivered"}
        assert {d["id"] for d in log["items"]} == set(ids)
        assert max(d["attempts"] for d in log["items"]) >= 3 and min(d["attempts"] for d in log["items"]) == 1
        assert all(json.dumps(d["payload"]) for d in log["items"])
    finally:
        podium.stop()
        if receiver.server is not None:
            receiver.stop()


async def test_deliveries_go_only_to_enabled_webhooks_with_a_secret(tmp_path, monkeypatch) -> None:
    """A link add-in, a disabled webhook and a webhook without a secret are owed nothing."""
    loopback_only(monkeypatch)
    receiver = Receiver()
    receiver.start()
    podium = PodiumServer.start(tmp_path / "podium", options=OPTIONS)
    try:
        api = Api(podium.url)
        await api.login_admin()
        hook = {"kind": "webhook", "url": receiver.url}
        link = await api.call("POST", "/add-ins", {**hook, "name": "Link", "kind": "link", "secret": True})
        off = await api.call("POST", "/add-ins", {**hook, "name": "Off", "enabled": False, "secret": True})
        bare = await api.call("POST", "/add-ins", {**hook, "name": "Bare"})
        on = await api.call("POST", "/add-ins", {**hook, "name": "On", "secret": True})
        await a_meeting(podium, api, "Only")
        await wait_for_events(receiver, on["secret"], MEETING)
        for other in (link, off, bare):
            log = await api.call("GET", f"/add-ins/{other['add_in']['id']}/deliveries")
            assert log["total"] == 0
        assert len(receiver.received) == sum(MEETING.values())
    finally:
        podium.stop()
        receiver.stop()


async def test_a_finished_recording_is_announced(tmp_path, monkeypatch) -> None:
    """`recording.ready` once the files of a stopped recording are final, naming the recording."""
    loopback_only(monkeypatch)
    receiver = Receiver()
    receiver.start()
    podium = PodiumServer.start(tmp_path / "podium", options=(*OPTIONS, "--recordings-dir", str(tmp_path / "rec")))
    try:
        api = Api(podium.url)
        await api.login_admin()
        created = await api.call(
            "POST", "/add-ins", {"name": "Receiver", "kind": "webhook", "url": receiver.url, "secret": True}
        )
        room = await api.create_room("Recorded")
        organizer = await Participant.join(podium, api.token, room["id"])
        try:
            await organizer.moderate("start_recording")
            started = await organizer.wait_event("recording-changed", lambda f: f.get("recording") is True)
            await organizer.moderate("stop_recording")
            await organizer.wait_event("recording-changed", lambda f: f.get("recording") is False)
        finally:
            await organizer.close()
        events = await wait_for_events(receiver, created["secret"], {"recording.ready": 1})
        (ready,) = [e for e in events if e["type"] == "recording.ready"]
        assert ready["data"]["recording_id"] == started["recording_id"]
        assert ready["data"]["meeting_id"] == organizer.joined["meeting_id"] and ready["data"]["state"] == "stopped"
    finally:
        podium.stop()
        receiver.stop()
