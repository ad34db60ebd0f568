"""The churn suite's clients, one per seat, behind one interface: an aiortc participant whose media
and signaling go through relays the test owns (`churn_relay`), or a headless Chromium window running
the web client (Playwright's async API on the suite's event loop, Debian's /usr/bin/chromium, fake
devices). Each counts what it receives per (publisher's participant id, source), on the receiving side.

Counts are pairs `(progress, packets)`: progress proves a track flows (decoded frames; for Chromium's
audio, packets), packets prove a track stopped (aiortc: decoded frames, which need packets).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS
from churn_relay import TcpRelay, UdpRelay
from media import ToneAudioTrack
from podium_client import COMPANY, Participant, PodiumServer, SignalingError
from stall_repair import repair_stalls

Counts = dict[tuple[str, str], tuple[int, int]]
VIDEO_RATE = 10  # frames per second of the aiortc cameras: enough to count, cheap for six at once
VIDEO_CLOCK = 90000
FAKE_CAMERA = (64, 48)  # Chromium's fake camera: a small still picture, cheap to encode and decode


class TinyVideoTrack(MediaStreamTrack):
    """Small gray frames at VIDEO_RATE per second."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._sent = 0

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        else:
            await asyncio.sleep(max(0.0, self._start + self._sent / VIDEO_RATE - time.monotonic()))
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 128, dtype=np.uint8), format="rgb24")
        frame.pts, frame.time_base = self._sent * VIDEO_CLOCK // VIDEO_RATE, fractions.Fraction(1, VIDEO_CLOCK)
        self._sent += 1
        return frame


def new_track(source: str) -> MediaStreamTrack:
    return ToneAudioTrack(440) if source == "microphone" else TinyVideoTrack()


class Refused(Exception):
    """The server refused a client's request: `code` is its error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AiortcSeat:
    """An aiortc participant (a new one at every join) behind a UDP relay for its media and a TCP
    relay for its signaling, both kept for the seat's life (so a block outlives a rejoin's sockets)."""

    kind = "aiortc"

    def __init__(self, server: PodiumServer, token: str, udp: UdpRelay, tcp: TcpRelay) -> None:
        self.server, self.token, self.udp, self.tcp = server, token, udp, tcp
        self.participant: Participant | None = None
        self.gone: list[Participant] = []
        # as a browser would, give up a loss retransmission cannot repair (after a long outage)
        self._repair = asyncio.ensure_future(repair_stalls(lambda: self.participant and self.participant.pc_sub))

    @classmethod
    async def open(cls, server: PodiumServer, token: str) -> AiortcSeat:
        return cls(server, token, UdpRelay(), await TcpRelay.start(("127.0.0.1", server.port)))

    @property
    def p(self) -> Participant:
        assert self.participant is not None
        return self.participant

    @property
    def pid(self) -> str:
        return self.p.id

    async def join(self, room_id: str) -> tuple[set[str], bool]:
        """Join; what the server says this participant holds, and whether it waits."""
        self.participant = await Participant.join(
            self.server, self.token, room_id, url=self.tcp.url("/signaling/v1"), sdp_from_server=self.udp.steer
        )
        you = self.p.joined["you"]
        return set(you["capabilities"]), bool(you["waiting"])

    async def publish(self, source: str) -> None:
        await self.p.publish(**{source: new_track(source)})

    async def unpublish(self, source: str) -> None:
        await self.p.unpublish(source)

    async def set_source(self, source: str, on: bool) -> None:
        try:
            await self.p.request({"type": "set-source", "source": source, "on": on})
        except SignalingError as refused:
            raise Refused(str(refused.code)) from None

    async def moderate(self, action: str, **arguments: Any) -> None:
        try:
            await self.p.moderate(action, **arguments)
        except SignalingError as refused:
            raise Refused(str(refused.code)) from None

    async def leave(self) -> None:
        gone, self.participant = self.p, None
        with contextlib.suppress(SignalingError):
            await gone.request({"type": "leave"})
        await gone.close()
        self.gone.append(gone)

    async def drop(self) -> None:
        """The signaling socket is killed (no close handshake, no `leave`) and the peer connections
        with it, as when a laptop's lid closes."""
        gone, self.participant = self.p, None
        await gone.drop()
        self.gone.append(gone)

    async def counts(self) -> Counts:
        p = self.p
        return {key: (len(received.frames),) * 2 for key, received in p.tracks.items()}

    async def subscribe_state(self) -> str:
        return self.p.pc_sub.connectionState

    async def close(self) -> None:
        for participant in ([self.participant] if self.participant else []) + self.gone:
            with contextlib.suppress(Exception):
                await participant.close()
        self._repair.cancel()
        await asyncio.gather(self._repair, return_exceptions=True)
        self.udp.close()
        await self.tcp.close()


class BrowserSeat:
    """A signed-in Chromium window running the web client; it joins the meeting page, which publishes
    the microphone and camera it may use (also in the waiting room)."""

    kind = "chromium"

    def __init__(self, page: Any, room_id: str = "") -> None:
        self.page = page
        self.room_id = room_id
        self.pid = ""

    @classmethod
    async def open(cls, browser: Any, base_url: str, email: str, password: str) -> BrowserSeat:
        context = await browser.new_context(base_url=base_url)
        context.set_default_timeout(20_000)
        page = await context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        await page.goto("/index.html")
        await page.get_by_label("Company", exact=True).fill(COMPANY)
        await page.get_by_label("Email", exact=True).fill(email)
        await page.get_by_label("Password", exact=True).fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/rooms.html")
        return cls(page)

    async def _joined(self) -> tuple[set[str], bool]:
        await self.page.wait_for_selector("body[data-joined=true]")
        you = await self.page.evaluate(
            "() => { const m = window.podiumMeeting; return {id: m.participantId, self: m.self}; }"
        )
        self.pid = you["id"]
        return set(you["self"]["capabilities"]), bool(you["self"]["waiting"])

    async def join(self, room_id: str) -> tuple[set[str], bool]:
        self.room_id = room_id
        await self.page.goto(f"/meeting.html?room={room_id}")
        # past the pre-join check, unless the page resumed its participant (it skips the check then)
        join = self.page.get_by_role("button", name="Join the meeting")
        await self.page.wait_for_selector('body[data-joined=true], button:has-text("Join the meeting")')
        if await join.is_visible():
            await join.click()
        return await self._joined()

    async def reload(self) -> tuple[set[str], bool]:
        await self.page.reload()
        return await self._joined()

    async def _call(self, script: str, *args: Any) -> None:
        """Run the web client's library call `script` (a function of `m`, the meeting, and args);
        its MeetingError becomes Refused."""
        code = await self.page.evaluate(
            "async ([args]) => { const m = window.podiumMeeting;"
            f" try {{ await ({script})(m, ...args); return null; }} catch (e) {{ return e.code || String(e); }} }}",
            [list(args)],
        )
        if code is not None:
            raise Refused(code)

    async def publish(self, source: str) -> None:
        await self._call("(m, s) => m.publish(s)", source)

    async def unpublish(self, source: str) -> None:
        await self._call("(m, s) => m.unpublish(s)", source)

    async def set_source(self, source: str, on: bool) -> None:
        await self._call("(m, s, on) => m.setSource(s, on)", source, on)

    async def leave(self) -> None:
        await self.page.locator("#leave-button").click()
        await self.page.locator("#ended").wait_for(state="visible")

    async def drop(self) -> None:
        """The tab goes away without leaving (its socket and peer connections close with the page).
        A closed tab takes its sessionStorage with it: the next join is a new participant (the
        dropped one leaves when its resume grace runs out)."""
        await self.page.evaluate("() => sessionStorage.clear()")
        await self.page.goto("about:blank")

    async def counts(self) -> Counts:
        counts: Counts = {}
        for row in await self.page.evaluate("() => window.podiumMeeting.receiverStats()"):
            key = (row["participantId"], row["source"])
            progress = row["framesDecoded"] if row["kind"] == "video" else row["packetsReceived"]
            before = counts.get(key, (0, 0))
            counts[key] = (before[0] + int(progress), before[1] + int(row["packetsReceived"]))
        return counts

    async def subscribe_state(self) -> str:
        return await self.page.evaluate(
            "() => { const s = window.podiumMeeting && window.podiumMeeting.media.sub;"
            " return s ? s.connectionState : 'none'; }"
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.page.context.close()


def fake_camera_file(directory: Path) -> Path:
    """A few frames of a small gray picture (Y4M), for Chromium's fake camera to loop."""
    path = directory / "churn-camera.y4m"
    if not path.exists():
        width, height = FAKE_CAMERA
        frame = b"FRAME\n" + bytes([128]) * (width * height) + bytes([128]) * (width * height // 2)
        path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 10)
    return path


@contextlib.asynccontextmanager
async def chromium(directory: Path) -> Any:
    """Debian's headless Chromium (the browser tests' flags; the camera a small still picture)."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Debian's chromium is missing at {CHROMIUM}: run scripts/install-test-deps.sh")
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={fake_camera_file(directory)}"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args, timeout=30_000)
        try:
            yield browser
        finally:
            await browser.close()
