"""A subscriber's simulcast layer follows the bandwidth toward it, with real browsers and a real
bottleneck: a Chromium publisher sends its camera in three layers; two Chromium subscribers show it
large (their tiles ask for the top layer). One runs in a network namespace of its own (another host,
over a veth pair) whose link from the server is then capped at 300 kbit/s (tc's token bucket; the
kernel lacks netem): within a few seconds it receives the lowest layer (frame width from getStats),
while the other, unconstrained, keeps the highest; lifting the cap brings the top layer back; frames
keep decoding across the switches.

Before relying on it the harness checks its own shaping: UDP offered at 3 Mbit/s into the namespace
arrives at about 300 kbit/s under the cap and at the full rate once the cap is lifted."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import canvas_camera
import pytest
from browser_fixtures import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    new_page,
    sign_in,
    start_server,
)
from link_probe import received_kbit
from netns import Namespace, namespace, rate_limit
from test_browser_simulcast import join, show_tile, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]

CAP_KBIT = 300
SWITCH_DOWN_S = 15.0
"""How long the capped subscriber may take to fall to the lowest layer ("within a few seconds")."""
SWITCH_UP_S = 30.0
"""How long the top layer may take to come back once the cap is lifted: the estimate climbs from
300 kbit/s to the top layer's bitrate at the pace of its probes."""


@pytest.fixture(scope="module")
def far() -> Iterator[Namespace]:
    """The capped subscriber's host: a namespace over a veth pair."""
    with namespace() as ns:
        yield ns


@pytest.fixture(scope="module")
def far_server(far: Namespace) -> Iterator[Server]:
    """`podium serve` on loopback (for the browsers here) and on this side of the pair (for the one
    there), its worker announcing both."""
    yield from start_server(engine=True, binds=("127.0.0.1", far.peer))


def launch(playwright: Any, *args: str, executable: str = CHROMIUM) -> Any:
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *args], timeout=60_000
    )


@pytest.fixture(scope="module")
def browsers(far: Namespace, far_server: Server) -> Iterator[tuple[Any, Any]]:
    """Chromium here, and Chromium in the namespace (a wrapper running it through `ip netns exec`),
    which takes the server's address on the pair: plain HTTP, as secure a context as loopback."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="podium-bandwidth-"))
    wrapper = folder / "chromium-in-namespace"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {far.name} {CHROMIUM} "$@"\n')
    os.chmod(wrapper, 0o755)
    there = far_server.url.replace("127.0.0.1", far.peer)
    try:
        with sync_playwright() as playwright:
            here = launch(playwright)
            try:
                away = launch(
                    playwright, f"--unsafely-treat-insecure-origin-as-secure={there}", executable=str(wrapper)
                )
                try:
                    yield here, away
                finally:
                    away.close()
            finally:
                here.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_shaping(ns: Namespace) -> None:
    """The harness's own check: the cap holds the link to about CAP_KBIT, and lifting it frees it."""
    free = received_kbit(ns)
    assert free > 5 * CAP_KBIT, f"the link to the namespace carries only {free:.0f} kbit/s uncapped"
    with rate_limit(ns, CAP_KBIT) as cap:
        capped = received_kbit(ns)
        assert 0.5 * CAP_KBIT < capped < 1.5 * CAP_KBIT, (
            f"{capped:.0f} kbit/s through a {CAP_KBIT} kbit/s cap ({cap.how})"
        )
    lifted = received_kbit(ns)
    assert lifted > 5 * CAP_KBIT, f"{lifted:.0f} kbit/s once the cap is lifted"


def join_watching(page: Any, room_id: str) -> None:
    """Joins with the microphone and camera off (a subscriber only: nothing of its own to budget for
    beside the publisher's camera and microphone)."""
    page.goto(f"/meeting.html?room={room_id}")
    for source in ("microphone", "camera"):
        page.locator(f"#prejoin-{source}").uncheck(timeout=60_000)
    page.get_by_role("button", name="Join the meeting").click(timeout=60_000)
    page.wait_for_selector("body[data-joined=true]", timeout=60_000)
    on = page.evaluate("() => [...window.podiumMeeting.media.local.values()].filter((e) => e.on).map((e) => e.source)")
    assert on == [], f"joined with {on} on"


RECEIVED = """async (publisher) => {
    for (const r of window.podiumMeeting.media.remote.values()) {
        if (r.consumer.participant_id !== publisher || r.consumer.source !== 'camera') continue;
        let found = {};
        (await r.receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') found = s; });
        return {width: found.frameWidth || 0, decoded: found.framesDecoded || 0, frozen: found.freezeCount || 0,
                kbytes: Math.round((found.bytesReceived || 0) / 1000), lost: found.packetsLost || 0};
    }
    return {width: 0, decoded: 0, frozen: 0, kbytes: 0, lost: 0};
}"""
"""What a subscriber receives of the publisher's camera (its inbound-rtp)."""

SENT = """async () => {
    const rows = {};
    const entry = window.podiumMeeting.media.local.get('camera');
    (entry ? await entry.transceiver.sender.getStats() : new Map()).forEach((s) => {
        if (s.type === 'outbound-rtp') rows[s.rid] = {width: s.frameWidth || 0, active: s.active,
            media: (s.bytesSent || 0) - (s.retransmittedBytesSent || 0), other: s.headerBytesSent || 0};
    });
    return rows;
}"""
"""What the publisher sends of its camera, by RID (its outbound-rtp): media (payload, not
retransmitted) and the rest (headers and padding)."""


class Timeline:
    """The publisher's layers and what the two subscribers receive, sampled while the test waits:
    the story an assertion tells when it fails (and the test prints when it passes)."""

    def __init__(self, publisher_page: Any, publisher: str, pages: dict[str, Any]) -> None:
        self.publisher_page, self.publisher, self.pages = publisher_page, publisher, pages
        self.start = time.monotonic()
        self.rows: list[str] = []
        self.sent: dict[str, dict[str, Any]] = {}
        self.sent_at = self.start

    def note(self, what: str) -> None:
        self.rows.append(f"{time.monotonic() - self.start:5.1f} s {what}")

    def sample(self) -> dict[str, str | None]:
        """Each subscriber's layer now: the RID the publisher sends at the frame width it receives
        (None: no frame yet, or a width of no layer now). Chromium may scale its layers down (CPU or
        bandwidth): what it sends right now is the reference. A paused consumer keeps its last
        frame's width: `decoding` tells whether frames still come."""
        seen = {name: page.evaluate(RECEIVED, self.publisher) for name, page in self.pages.items()}
        now, sent = time.monotonic(), self.publisher_page.evaluate(SENT)
        layers: dict[str, str | None] = {}
        for name, got in seen.items():
            matching = [rid for rid, row in sent.items() if row["width"] and row["width"] == got["width"]]
            layers[name] = matching[0] if len(matching) == 1 else None

        def rate(rid: str, field: str) -> str:
            return f"{(sent[rid][field] - self.sent[rid][field]) * 8 / (now - self.sent_at) / 1000:.0f}"

        rates = " ".join(
            f"{rid} {rate(rid, 'media')}+{rate(rid, 'other')}" + ("" if row["active"] else " (off)")
            for rid, row in sorted(sent.items())
            if rid in self.sent
        )
        self.sent, self.sent_at = sent, now
        self.note(
            "; ".join(
                f"{name} {layers[name]} {got['width']} px, decoded {got['decoded']}, frozen {got['frozen']},"
                f" {got['kbytes']} kB, lost {got['lost']}"
                for name, got in seen.items()
            )
            + f"; sent kbit/s (media+headers and padding) {rates}"
        )
        return layers

    def until(self, what: str, check: Any, timeout: float) -> float:
        """Samples until `check(layers)` holds; the seconds it took (AssertionError with the timeline
        after `timeout`)."""
        started = time.monotonic()
        try:
            wait_until(lambda: check(self.sample()), timeout, what=what)
        except AssertionError as error:
            raise AssertionError(f"{error}:\n" + "\n".join(self.rows)) from None
        return time.monotonic() - started

    def decoding(self, name: str, frames: int = 20, timeout: float = 10.0) -> None:
        """`name` decodes `frames` more frames of the publisher's camera."""
        page = self.pages[name]
        before = page.evaluate(RECEIVED, self.publisher)["decoded"]
        self.until(
            f"{name} decoding {frames} frames after {before}",
            lambda _: page.evaluate(RECEIVED, self.publisher)["decoded"] >= before + frames,
            timeout,
        )


def test_a_capped_subscriber_falls_to_the_lowest_layer_and_climbs_back(far, far_server, browsers) -> None:
    here, away = browsers
    check_shaping(far)

    admin = far_server.admin
    room = admin.call("POST", "/rooms", {"name": "Bandwidth"})
    people = [("una@acme.example", "Una Free", "una password"), ("cal@acme.example", "Cal Capped", "cal password")]
    for email, name, password in people:
        user = admin.new_user(email, name, password)
        admin.call("PUT", f"/rooms/{room['id']}/access/{user.user_id}", {"role": "participant"})
    ada = new_page(here, far_server.url)
    canvas_camera.install(ada.context)  # three layers, each costing what a camera's would
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    una = new_page(here, far_server.url)
    cal = new_page(away, far_server.url.replace("127.0.0.1", far.peer))
    sign_in(una, *people[0][::2])
    sign_in(cal, *people[1][::2])
    join_watching(una, room["id"])
    join_watching(cal, room["id"])
    assert "a=simulcast:send q;h;f" in ada.evaluate("() => window.podiumMeeting.media.pub.localDescription.sdp")

    # both show the camera large: both receive the top layer, Cal across the (uncapped) pair
    for page in (una, cal):
        show_tile(page, ada_id, 1280, 720)
    timeline = Timeline(ada, ada_id, {"Una": una, "Cal": cal})
    timeline.until("both on the top layer", lambda layers: layers == {"Una": "f", "Cal": "f"}, 30)
    timeline.decoding("Cal")

    with rate_limit(far, CAP_KBIT) as cap:
        timeline.note(f"capped at {CAP_KBIT} kbit/s ({cap.how})")
        down = timeline.until("Cal on the lowest layer", lambda layers: layers["Cal"] == "q", SWITCH_DOWN_S)
        timeline.decoding("Cal")
        timeline.until("Una on the top layer while Cal is capped", lambda layers: layers["Una"] == "f", 10)
        cap.lift()
        timeline.note("cap lifted")
        up = timeline.until("Cal back on the top layer", lambda layers: layers["Cal"] == "f", SWITCH_UP_S)
    timeline.decoding("Cal")
    timeline.decoding("Una")
    print(f"lowest layer {down:.1f} s after the cap, top layer {up:.1f} s after lifting it")
    print("\n".join(timeline.rows))
    assert not ada.errors and not una.errors and not cal.errors
