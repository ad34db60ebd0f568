"""Ending every running meeting of a company, for the instance operator (suspension, deletion).

Each meeting ends for everyone as `end_meeting` ends it, through the commit pipeline (the engine
closes its router before anyone is told), with the reason `company_suspended`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from control.domain.moderation import Reason
from control.domain.moderation.commands import outcome
from control.domain.moderation.succession import end_for_everyone
from control.meetings.errors import MeetingError

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")


async def end_company_meetings(service: MeetingService, company_id: str) -> int:
    """End the company's running meetings; returns how many ended. A meeting whose engine did not
    apply the end is logged and left running: its people can no longer be let in (the company is
    suspended or gone), and it ends when they leave."""
    ended = 0
    for live in [m for m in service.live.values() if m.company_id == company_id]:
        async with live.lock:
            if live.state.ended:
                continue
            new, extra = end_for_everyone(live.state, Reason.COMPANY_SUSPENDED)
            decision = outcome(live.state, new, extra)
            try:
                await service.commits.commit(live, decision.state, decision.effects, actor="")
            except MeetingError as error:
                log.error("meeting %s of company %s could not be ended: %s", live.id, company_id, error.code)
                continue
            ended += 1
    return ended


def online(service: MeetingService, company_id: str) -> int:
    """People in the company's running meetings now, waiting or admitted."""
    return sum(len(m.state.participants) for m in service.live.values() if m.company_id == company_id)
