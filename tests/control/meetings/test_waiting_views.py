"""Views that cannot take effect yet wait, and are applied once they can
(control.domain.pending_views): a view of a consumer the subscriber has not got yet takes effect when
the consumer is made; one the engine refused, after the meeting's next change; a waiting
participant's views are kept through the admission that follows (its consumers unpaused and on the
layer the latest view asks, or paused when it hides them)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from meeting_fakes import Socket

from control.domain.moderation import Action, Command
from control.domain.pending_views import PendingViews, want
from control.domain.roles import Source
from control.meetings.errors import MeetingError

sys.path.insert(0, str(Path(__file__).parent / "sdp"))
from sdp_offers import CHROME_OFFER

MIC, CAMERA = Source.MICROPHONE, Source.CAMERA
SOURCES = {"0": MIC, "1": CAMERA}


async def settle(meetings: Any) -> None:
    """Lets the views that became due be applied (they run as the service's tasks after the change)."""
    tasks = set(meetings.service._tasks)
    while tasks:
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        tasks = set(meetings.service._tasks) - tasks


def subscription(live: Any, pid: str, source: Source) -> Any:
    return next(s for s in live.media.peers[pid].subscriptions if s.active and s.source == source)


def consumer_ops(meetings: Any, since: int, consumer_id: str) -> list[str]:
    return [
        op.name for _, ops in meetings.registry.batches[since:] for op in ops if getattr(op, "id", None) == consumer_id
    ]


async def organizer_and_waiting_guest(meetings: Any) -> tuple[Any, str, str]:
    service, room = meetings.service, meetings.room["id"]
    live, o = await service.join(meetings.admin.token, room, Socket().link())
    await service.publish(live, o, CHROME_OFFER, SOURCES, frozenset())
    _, a = await service.join(meetings.ann.token, room, Socket().link())
    assert live.state.get(a).waiting
    return live, o, a


async def test_a_view_sent_before_its_consumer_exists_takes_effect_when_it_does(meetings) -> None:
    service, room = meetings.service, meetings.room["id"]
    live, o = await service.join(meetings.admin.token, room, Socket().link())
    _, a = await service.join(meetings.ann.token, room, Socket().link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    # a's next consumers will be a.c1 (o's microphone) and a.c2 (o's camera): a small tile for the camera
    await service.view(live, a, f"{a}.c2", 320, 180)
    await service.view(live, a, f"{a}.c2", 100, 50)
    await service.view(live, a, f"{a}.c2", 640, 360)  # the latest view counts
    assert set(live.pending_views[a].sizes) == {f"{a}.c2"}
    since = len(meetings.registry.batches)
    await service.publish(live, o, CHROME_OFFER, SOURCES, frozenset())
    await settle(meetings)
    camera = subscription(live, a, CAMERA)
    assert camera.consumer_id == f"{a}.c2"
    assert (camera.layer, camera.paused, camera.size) == (1, False, (640, 360))
    assert consumer_ops(meetings, since, camera.consumer_id) == ["consume", "switch_consumer"]
    assert a not in live.pending_views

    # a waiting view that became due but was overtaken by a newer one is not applied
    await service.view(live, a, camera.consumer_id, 1280, 720)
    await service.publishing.apply_views(live, [(a, camera.consumer_id, (640, 360))], lambda: None)
    assert subscription(live, a, CAMERA).layer == 2
    # a view that waited for a consumer which came and went (given, now inactive) is dropped
    live.pending_views[a] = want(PendingViews(), f"{a}.c1", (1, 1))
    await service.close_producer(live, o, MIC)
    assert service.publishing.due_views(live) == [] and a not in live.pending_views


async def test_a_view_of_what_is_not_a_future_consumer_of_yours_is_refused(meetings) -> None:
    service, room = meetings.service, meetings.room["id"]
    live, o = await service.join(meetings.admin.token, room, Socket().link())
    await service.publish(live, o, CHROME_OFFER, SOURCES, frozenset())
    _, a = await service.join(meetings.ann.token, room, Socket().link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    given = subscription(live, a, CAMERA).consumer_id
    # another's consumer, ids not of a's form, a number a was given (a producer's): refused
    for bad in (f"{o}.c9", "c9", f"{a}.c", f"{a}.c09", f"{a}.microphone.1", f"{a}.c0"):
        with pytest.raises(MeetingError, match="of yours is active"):
            await service.view(live, a, bad, 320, 180)
    assert a not in live.pending_views
    await service.act(live, o, Command(Action.TURN_OFF_SOURCE, source=CAMERA))
    await service.close_producer(live, o, CAMERA)  # a's camera consumer is gone: no longer viewable
    with pytest.raises(MeetingError, match="of yours is active"):
        await service.view(live, a, given, 320, 180)


async def test_a_view_the_engine_refused_is_applied_after_the_next_change(meetings) -> None:
    service, room = meetings.service, meetings.room["id"]
    live, o = await service.join(meetings.admin.token, room, Socket().link())
    await service.publish(live, o, CHROME_OFFER, SOURCES, frozenset())
    _, a = await service.join(meetings.ann.token, room, Socket().link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    camera = subscription(live, a, CAMERA)
    meetings.registry.fail = "refuse"
    with pytest.raises(MeetingError) as refused:
        await service.view(live, a, camera.consumer_id, 320, 180)
    assert refused.value.code == "engine_refused"
    assert subscription(live, a, CAMERA).layer == 2  # nothing changed
    meetings.registry.fail = None
    await service.act(live, o, Command(Action.TURN_OFF_SOURCE, source=MIC))  # the meeting's next change
    await settle(meetings)
    assert subscription(live, a, CAMERA).layer == 0
    assert a not in live.pending_views


@pytest.mark.parametrize("visit", [False, True], ids=["no-visit", "visit"])
async def test_views_sent_in_the_waiting_room_hold_after_admission(meetings, visit: bool) -> None:
    """The sequence of the bug behind the old guard: join into the waiting room, send views (during a
    visit, of the visitor's consumers; else of the consumers admission will make), be admitted: the
    consumers are unpaused and on the layer the latest view asks."""
    service = meetings.service
    live, o, a = await organizer_and_waiting_guest(meetings)
    if visit:
        await service.act(live, o, Command(Action.VISIT, target=a))
        camera_id = subscription(live, a, CAMERA).consumer_id
    else:
        camera_id = f"{a}.c2"  # o's microphone first, then o's camera
    await service.view(live, a, camera_id, 0, 0)  # the waiting page hid the tile
    await service.view(live, a, camera_id, 640, 360)  # then showed it
    if visit:
        await service.act(live, o, Command(Action.END_VISIT))
    await service.act(live, o, Command(Action.ADMIT, target=a))
    await settle(meetings)
    camera, microphone = subscription(live, a, CAMERA), subscription(live, a, MIC)
    assert camera.consumer_id == camera_id
    assert (camera.layer, camera.paused, camera.hidden, microphone.paused) == (1, False, False, False)
    # hidden last: paused after admission too, whatever the plan allows
    await service.act(live, o, Command(Action.SEND_BACK, target=a))
    await service.view(live, a, camera_id, 0, 0)
    await service.act(live, o, Command(Action.ADMIT, target=a))
    await settle(meetings)
    assert subscription(live, a, CAMERA).paused and not subscription(live, a, MIC).paused
