"""The whiteboard preview relay (control.meetings.whiteboard_previews) over a live meeting whose links
record what they are sent: to the others who may draw, as datagrams, never as frames; refused senders
and the rate as drop reasons; and `LiveMeeting.send_datagram`'s fallback to a frame."""

from __future__ import annotations

import asyncio
from typing import Any

from control.domain.datagrams import PREVIEW_RATE, DropReason
from control.domain.meeting_state import MeetingState, Participant
from control.domain.roles import ALL_CAPABILITIES, Capability, Role
from control.domain.whiteboard import Drawing
from control.meetings.datagram_wire import PreviewDatagram
from control.meetings.live import Link, LiveMeeting
from control.meetings.media import Media
from control.meetings.whiteboard_previews import WhiteboardPreviews

PREVIEW = PreviewDatagram(n=1, stroke=7, drawing=Drawing("#112233", 4.0, points=((1.0, 2.0), (3.5, 4.0))))


class Recorded:
    """A participant's link: frames and datagrams it was sent; `datagrams=None`: a WebSocket."""

    def __init__(self, datagrams: bool | None = True) -> None:
        self.frames: list[dict[str, Any]] = []
        self.datagrams: list[dict[str, Any]] = []
        self.takes = datagrams

    def link(self) -> Link:
        async def close(code: int, reason: str) -> None:
            pass

        def datagram(frame: dict[str, Any]) -> bool:
            if self.takes:
                self.datagrams.append(frame)
            return bool(self.takes)

        return Link(self.frames.append, close, None if self.takes is None else datagram)


def person(pid: str, role: Role = Role.PARTICIPANT, *, waiting: bool = False, board: bool = True) -> Participant:
    caps = ALL_CAPABILITIES if board else ALL_CAPABILITIES - {Capability.WHITEBOARD}
    return Participant(pid, "person-" + pid, True, role=role, waiting=waiting, capabilities=caps)


def meeting(links: dict[str, Recorded], *people: Participant) -> LiveMeeting:
    state = MeetingState()
    for p in people:
        state = state.put(p)
    live = LiveMeeting("m1", "r1", "c1", state, Media("router", "w", [], []))
    live.links = {pid: recorded.link() for pid, recorded in links.items()}
    return live


def test_previews_go_as_datagrams_to_the_others_who_draw() -> None:
    links = {pid: Recorded() for pid in ("ada", "bob", "cy", "dee")} | {"eve": Recorded(None)}
    live = meeting(
        links,
        person("ada", Role.ORGANIZER),
        person("bob"),
        person("cy", board=False),
        person("dee", waiting=True),
        person("eve"),  # on a WebSocket
    )
    relay = WhiteboardPreviews(clock=lambda: 100.0)
    assert relay.relay(live, "ada", PREVIEW) is None
    assert relay.relay(live, "ada", PREVIEW) is None
    expected = {"type": "whiteboard-preview", "author": "ada", "stroke": 7, "color": "#112233", "width": 4,
                "points": [[1, 2], [3.5, 4]]}  # fmt: skip
    assert links["bob"].datagrams == [expected | {"n": 1}, expected | {"n": 2}]
    for pid in ("ada", "cy", "dee", "eve"):
        assert links[pid].datagrams == [] and links[pid].frames == []


def test_refused_senders_and_the_rate_are_drop_reasons() -> None:
    links = {pid: Recorded() for pid in ("ada", "bob", "cy", "dee")}
    live = meeting(links, person("ada"), person("bob"), person("cy", board=False), person("dee", waiting=True))
    now = [10.0]
    relay = WhiteboardPreviews(clock=lambda: now[0])
    assert relay.relay(live, "cy", PREVIEW) is DropReason.NOT_PERMITTED
    assert relay.relay(live, "dee", PREVIEW) is DropReason.NOT_PERMITTED
    assert relay.relay(live, "ghost", PREVIEW) is DropReason.NOT_PERMITTED
    assert [relay.relay(live, "ada", PREVIEW) for _ in range(PREVIEW_RATE)] == [None] * PREVIEW_RATE
    assert relay.relay(live, "ada", PREVIEW) is DropReason.RATE_LIMITED
    assert relay.relay(live, "bob", PREVIEW) is None  # per person
    now[0] += 1.0
    assert relay.relay(live, "ada", PREVIEW) is None  # a second later
    assert [d["n"] for d in links["bob"].datagrams] == list(range(1, PREVIEW_RATE + 1)) + [PREVIEW_RATE + 2]
    asyncio.run(relay.meeting_ended(live.info(), "ended"))
    assert relay.relay(live, "ada", PREVIEW) is None and links["bob"].datagrams[-1]["n"] == 1  # numbers start again


def test_send_datagram_falls_back_to_a_frame_where_it_may() -> None:
    links = {"web": Recorded(None), "quic": Recorded(True), "nodgram": Recorded(False)}
    live = meeting(links, person("web"), person("quic"), person("nodgram"))
    frame = {"type": "control-input", "session_id": "s", "seq": 1, "event": {"kind": "pointermove"}}
    for pid in links:
        live.send_datagram(pid, frame)
        live.send_datagram(pid, frame | {"seq": 2}, fallback=False)
    assert links["web"].frames == [frame] and links["web"].datagrams == []
    assert links["quic"].datagrams == [frame, frame | {"seq": 2}] and links["quic"].frames == []
    assert links["nodgram"].frames == [frame] and links["nodgram"].datagrams == []
    live.send_datagram("nobody", frame)  # not connected: nothing
