"""Ending running meetings for everyone: a company's, for the instance operator (suspension,
deletion), with the reason `company_suspended`; a room's, when the room is deleted, with
`room_deleted` (its meeting's records go with the room, so the meeting ends first).

Each meeting ends for everyone as `end_meeting` ends it, through the commit pipeline (the engine
closes its router before anyone is told).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from control.domain.moderation import Reason
from control.domain.moderation.commands import outcome
from control.domain.moderation.succession import end_for_everyone
from control.meetings.errors import MeetingError
from control.meetings.live import LiveMeeting

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")


async def end_company_meetings(service: MeetingService, company_id: str) -> int:
    """End the company's running meetings; returns how many ended. A meeting whose engine did not
    apply the end is logged and left running: its people can no longer be let in (the company is
    suspended or gone), and it ends when they leave."""
    return await _end(service, lambda live: live.company_id == company_id, Reason.COMPANY_SUSPENDED)


async def end_room_meetings(service: MeetingService, room_id: str) -> int:
    """End the running meeting of a room about to be deleted (or just deleted, on another replica);
    returns how many ended. One whose engine did not apply the end is logged and left running."""
    return await _end(service, lambda live: live.room_id == room_id, Reason.ROOM_DELETED)


async def _end(service: MeetingService, which: Callable[[LiveMeeting], bool], reason: Reason) -> int:
    ended = 0
    for live in [m for m in service.live.values() if which(m)]:
        async with live.lock:
            if live.state.ended:
                continue
            new, extra = end_for_everyone(live.state, reason)
            decision = outcome(live.state, new, extra)
            try:
                await service.commits.commit(live, decision.state, decision.effects, actor="")
            except MeetingError as error:
                log.error("meeting %s could not be ended (%s): %s", live.id, reason, error.code)
                continue
            ended += 1
    return ended


def online(service: MeetingService, company_id: str) -> int:
    """People in the company's running meetings now, waiting or admitted."""
    return sum(len(m.state.participants) for m in service.live.values() if m.company_id == company_id)
