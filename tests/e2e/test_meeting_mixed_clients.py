"""A Chromium window and aiortc participants in one meeting, each receiving the others: the churn
suite's check (`test_meeting_churn.Churn.check`) with three people, one of them a Chromium window.

Chromium and aiortc number their header extensions differently (Chromium's audio: 1 audio-level,
2 abs-send-time, 3 transport-cc, 4 mid; aiortc's: 1 mid, 2 audio-level). Before issue 14 the engine
forwarded each publisher's extensions unchanged under one publisher's ids, so an aiortc subscriber of
both read Chromium's abs-send-time as audio-level and its transport stopped (`struct.error` in
`RtpPacket.parse`). Now the engine writes, per consumer, the ids the subscriber negotiated and the
consumer's own MID (engine/extensions.pxi).
"""

from __future__ import annotations

import asyncio

import pytest
from harness import loopback_only
from meeting_fixtures import podium  # noqa: F401
from test_meeting_churn import Scenario, run, scratch, users  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media, pytest.mark.timeout(120)]


def test_chromium_and_aiortc_publishers_reach_a_third_person(podium, users, scratch) -> None:
    """The organizer (aiortc), a Chromium window and a third person (aiortc) join and publish; each
    must receive the two others' microphone and camera."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        loopback_only(monkeypatch)
        asyncio.run(run(podium, users, scratch, Scenario(3, 1, False, ())))
