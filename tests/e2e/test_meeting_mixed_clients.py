"""A Chromium window and aiortc participants in one meeting, each receiving the others: the churn
suite's check (`test_meeting_churn.Churn.check`) with three people, one of them a Chromium window.

It fails today (strict xfail, so that the fix shows): a subscriber's offer carries the header
extension ids of one publisher (`control.meetings.media.Media._publisher_extensions`, "browsers and
aiortc use the same ids for every sender of a kind"), while the engine forwards every publisher's
header extensions unchanged. Chromium and aiortc number their extensions differently, so a subscriber
of both reads one publisher's extensions under the other's ids: aiortc's receive loop fails to parse
them (`struct.error` in `RtpPacket.parse`) and its whole transport stops; Chromium would misread audio
levels and congestion-control feedback. Two people do not show it (each subscriber has one publisher).
"""

from __future__ import annotations

import asyncio

import pytest
from harness import loopback_only
from meeting_fixtures import podium  # noqa: F401
from test_meeting_churn import Scenario, run, scratch, users  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="subscriber offers carry one publisher's header extension ids; the engine forwards each "
    "publisher's own ids (Chromium's differ from aiortc's)",
)
def test_chromium_and_aiortc_publishers_reach_a_third_person(podium, users, scratch) -> None:
    """The organizer (aiortc), a Chromium window and a third person (aiortc) join and publish; each
    must receive the two others' microphone and camera."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        loopback_only(monkeypatch)
        asyncio.run(run(podium, users, scratch, Scenario(3, 1, False, ())))
