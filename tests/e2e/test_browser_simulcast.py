"""Simulcast with real browsers: a Chromium publisher sends its camera in simulcast layers; of two
Chromium subscribers, one shows it in a small tile (and reports so: the `view` frame) and receives
the lowest layer, the other shows it large and receives the highest (frame width from getStats);
resizing the tiles swaps them, and frames keep decoding across the switches (each at a keyframe). A
layer the publisher stops sending (Chromium does, when its bandwidth or CPU runs short) is not the
one a subscriber waits on: it gets the highest layer still sent, and the top again once it is back."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    media_server,
    new_page,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(180)]

INBOUND = """async (publisher) => {
    const m = window.podiumMeeting;
    for (const [mid, r] of m.media.remote) {
        if (r.consumer.participant_id !== publisher || r.consumer.source !== 'camera') continue;
        let found = {};
        (await r.receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') found = s; });
        return {mid, width: found.frameWidth || 0, height: found.frameHeight || 0, decoded: found.framesDecoded || 0,
                frozen: found.freezeCount || 0};
    }
    return null;
}"""


OUTBOUND = """async () => {
    const rows = [];
    for (const entry of window.podiumMeeting.media.local.values()) {
        if (entry.source !== 'camera') continue;
        (await entry.transceiver.sender.getStats()).forEach((s) => {
            if (s.type === 'outbound-rtp') rows.push({rid: s.rid, width: s.frameWidth || 0, sent: s.packetsSent || 0,
                limited: s.qualityLimitationReason, active: s.active, target: s.targetBitrate || 0});
        });
    }
    return rows;
}"""


def outbound(page: Any) -> list[dict[str, Any]]:
    """The publisher's camera layers as it sends them (one outbound-rtp per RID)."""
    return sorted(page.evaluate(OUTBOUND), key=lambda row: str(row.get("rid")))


def inbound(page: Any, publisher: str) -> dict[str, int]:
    return page.evaluate(INBOUND, publisher) or {"width": 0, "decoded": 0}


def on_layer(page: Any, publisher_page: Any, publisher: str, *, lowest: bool) -> bool:
    """Whether the page decodes the publisher's lowest (or highest) layer: its frame width is the
    narrowest (widest) of the layers the publisher sends now."""
    widths = sorted({row["width"] for row in outbound(publisher_page) if row["width"]})
    width = inbound(page, publisher)["width"]
    return len(widths) >= 2 and width == (widths[0] if lowest else widths[-1])


def state(page: Any, publisher_page: Any, publisher: str) -> str:
    return f"received {inbound(page, publisher)}, sent {outbound(publisher_page)}"


def wait_until(check, timeout: float = 30.0, what: Any = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(0.25)


def join(page: Any, room_id: str) -> str:
    page.goto(f"/meeting.html?room={room_id}")
    page.get_by_role("button", name="Join the meeting").click(timeout=60_000)
    try:
        page.wait_for_selector("body[data-joined=true]", timeout=60_000)  # a loaded machine: slow pages
    except Exception as error:
        raise AssertionError(
            f"not joined: {page.evaluate('() => document.body.innerText')[:2000]} {page.errors}"
        ) from error
    return page.evaluate("() => window.podiumMeeting.participantId")


def show_tile(page: Any, publisher: str, width: int, height: int) -> None:
    """Shows the publisher's camera tile at this CSS size (the page's ResizeObserver reports it)."""
    page.evaluate(
        """([publisher, width, height]) => {
            let style = document.getElementById('tile-size');
            if (!style) {
                style = document.createElement('style');
                style.id = 'tile-size';
                document.head.append(style);
            }
            style.textContent = `figure[data-participant-id="${publisher}"][data-source="camera"] video,
                figure[data-participant-id="${publisher}"][data-source="camera"] {
                width: ${width}px !important; height: ${height}px !important; max-width: none !important;
                max-height: none !important; flex: none !important; }`;
        }""",
        [publisher, width, height],
    )


SET_TOP_LAYER = """async (active) => {
    // Chromium stops a layer by itself (its estimate or its CPU cannot carry them all) without the
    // page knowing: the server's `layers` frames must not turn it back on here
    const media = window.podiumMeeting.media;
    media.setLayers = async () => false;
    for (const entry of media.local.values()) {
        if (entry.source !== 'camera') continue;
        const sender = entry.transceiver.sender;
        const parameters = sender.getParameters();
        for (const encoding of parameters.encodings) encoding.active = encoding.rid !== 'f' || active;
        await sender.setParameters(parameters);
    }
}"""


def on_rid(page: Any, publisher_page: Any, publisher: str, rid: str) -> bool:
    """Whether the page decodes the publisher's layer `rid`: its frame width is that layer's now."""
    width = next((row["width"] for row in outbound(publisher_page) if row["rid"] == rid), 0)
    return width > 0 and inbound(page, publisher)["width"] == width


def test_each_subscriber_gets_the_layer_its_tile_needs(media_server, browser) -> None:
    admin = media_server.admin
    room = admin.call("POST", "/rooms", {"name": "Simulcast"})
    people = [
        ("sam@acme.example", "Sam Small", "sam password"),
        ("lou@acme.example", "Lou Large", "lou password"),
        ("bea@acme.example", "Bea Late", "bea password"),
    ]
    for email, name, password in people:
        user = admin.new_user(email, name, password)
        admin.call("PUT", f"/rooms/{room['id']}/access/{user.user_id}", {"role": "participant"})
    ada = new_page(browser, media_server.url)
    sign_in(ada, ADMIN_EMAIL, ADMIN_PASSWORD)
    ada_id = join(ada, room["id"])
    sam, lou, bea = (new_page(browser, media_server.url) for _ in people)
    sign_in(sam, *people[0][::2])
    sign_in(lou, *people[1][::2])
    join(sam, room["id"])
    join(lou, room["id"])
    # the publisher sends its camera in layers (the fake camera's 640x480: RIDs h and f; from 540
    # lines q too)
    offer = ada.evaluate("() => window.podiumMeeting.media.pub.localDescription.sdp")
    assert "a=simulcast:send h;f" in offer or "a=simulcast:send q;h;f" in offer

    show_tile(sam, ada_id, 160, 90)
    show_tile(lou, ada_id, 1280, 720)
    # Chromium may scale its layers down (CPU or bandwidth): compare with what it sends right now
    wait_until(lambda: on_layer(sam, ada, ada_id, lowest=True), what=lambda: f"Sam low: {state(sam, ada, ada_id)}")
    wait_until(lambda: on_layer(lou, ada, ada_id, lowest=False), what=lambda: f"Lou high: {state(lou, ada, ada_id)}")
    # both at once (Chromium scales a layer down and back at will: the widths of one moment)
    wait_until(
        lambda: inbound(sam, ada_id)["width"] * 2 <= inbound(lou, ada_id)["width"],
        what=lambda: f"Sam half of Lou: {state(sam, ada, ada_id)}; {state(lou, ada, ada_id)}",
    )

    # the tiles swap sizes: so do the layers, frames decoding on across the switches
    show_tile(sam, ada_id, 1280, 720)
    show_tile(lou, ada_id, 160, 90)
    wait_until(lambda: on_layer(sam, ada, ada_id, lowest=False), what=lambda: f"Sam up: {state(sam, ada, ada_id)}")
    wait_until(lambda: on_layer(lou, ada, ada_id, lowest=True), what=lambda: f"Lou down: {state(lou, ada, ada_id)}")
    for page in (sam, lou):
        before = inbound(page, ada_id)["decoded"]
        wait_until(lambda p=page, b=before: inbound(p, ada_id)["decoded"] > b + 20, what="frames after the switch")
    assert not ada.errors and not sam.errors and not lou.errors
    # the subscribers' browsers send transport-cc feedback about what the engine numbered for them,
    # read into their transports' bandwidth estimates (the stats report's, every 5 s: /metrics), and
    # none of it is malformed
    wait_until(lambda: congestion_feedback(media_server).get("twcc", 0) > 0, what="transport-cc feedback")
    assert congestion_feedback(media_server).get("twcc_malformed", 0) == 0
    # the subscribers are sent less than their estimates allow: the engine probes them with RTX
    # padding, and Chromium's feedback about the padding raises their estimates (engine/probe.pxi)
    wait_until(
        lambda: probes(media_server).get("raised", 0) > 0, what=lambda: f"a probe raising: {probes(media_server)}"
    )

    # Ada's browser stops sending her top layer, as Chromium does by itself when its estimate or its
    # CPU cannot carry every layer: Sam, who watched it, gets the layer still sent, and Bea, who
    # joins now and shows Ada large, is not made to wait on the silent one
    wait_until(lambda: on_rid(sam, ada, ada_id, "f"), what=lambda: f"Sam on f: {state(sam, ada, ada_id)}")
    ada.evaluate(SET_TOP_LAYER, False)
    wait_until(lambda: on_rid(sam, ada, ada_id, "h"), what=lambda: f"Sam down: {state(sam, ada, ada_id)}")
    before = inbound(sam, ada_id)["decoded"]
    wait_until(lambda: inbound(sam, ada_id)["decoded"] > before + 20, what=lambda: f"Sam: {state(sam, ada, ada_id)}")
    sign_in(bea, *people[2][::2])
    join(bea, room["id"])
    show_tile(bea, ada_id, 1280, 720)
    wait_until(lambda: inbound(bea, ada_id)["decoded"] > 20, what=lambda: f"Bea decodes: {state(bea, ada, ada_id)}")
    # the top layer is back: Sam, whose estimate carried it before, gets it again; Bea keeps decoding
    # on whichever layer her estimate allows (a late joiner's is probed up at its start, engine/
    # probe.pxi, but on a loaded host the delays of a starved Chromium read as congestion, and the
    # budget then rightly holds her at h: control.domain.budget)
    ada.evaluate(SET_TOP_LAYER, True)
    wait_until(lambda: on_rid(sam, ada, ada_id, "f"), what=lambda: f"Sam up: {state(sam, ada, ada_id)}")
    for name, page in (("Sam", sam), ("Bea", bea)):
        before = inbound(page, ada_id)["decoded"]
        wait_until(
            lambda p=page, b=before: inbound(p, ada_id)["decoded"] > b + 20,
            what=lambda n=name, p=page: f"{n} decodes: {state(p, ada, ada_id)}",
        )
    assert not ada.errors and not sam.errors and not lou.errors and not bea.errors


def probes(server) -> dict[str, float]:
    """podium_engine_probes_total by outcome, summed over workers."""
    return engine_series(server, "podium_engine_probes_total", "outcome")


def congestion_feedback(server) -> dict[str, float]:
    """podium_engine_congestion_feedback_total by kind, summed over workers."""
    return engine_series(server, "podium_engine_congestion_feedback_total", "kind")


def engine_series(server, name: str, label: str) -> dict[str, float]:
    """A labelled /metrics series of the engines, by that label's value, summed over workers."""
    token = (server.data_dir / "metrics-token").read_text().strip()
    metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}, verify=False, timeout=5)
    out: dict[str, float] = {}
    for line in metrics.text.splitlines():
        if line.startswith(name + "{"):
            value = line.split(f'{label}="', 1)[1].split('"', 1)[0]
            out[value] = out.get(value, 0.0) + float(line.rsplit(" ", 1)[1])
    return out
