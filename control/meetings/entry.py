"""What the service needs at entry beside the pure rules: the room's features as policy sees them,
an arrival's rights, and the quotas counted over the live meetings (control.domain.quotas).

Everyone present counts towards the quotas, waiting or admitted (control.domain.quotas says why).
The room's count is taken under the meeting's lock (or the room's opening lock), so two arrivals
never both take its last place; the company's count spans meetings that other locks guard, so two
arrivals in two rooms at the same instant may both take the company's last place (at most one
per room over the quota, never more).
"""

from __future__ import annotations

from collections.abc import Iterable

from control.domain import quotas
from control.domain.meeting_state import RoomFeatures
from control.domain.roles import Role
from control.meetings.errors import MeetingError, refused
from control.meetings.live import Identity, LiveMeeting
from control.services.context import Context
from control.store.models import Company, Room


def features(room: Room) -> RoomFeatures:
    """The room's configuration, fixed for a meeting's lifetime."""
    return RoomFeatures(
        waiting_room=room.waiting_room,
        screen_share=room.screen_share,
        participants_may_start=room.participants_may_start,
    )


def rights(identity: Identity) -> Role:
    """The arrival's rights in the room (guests: participant)."""
    return identity.room_role if identity.registered and identity.room_role is not None else Role.PARTICIPANT


async def check_entry(ctx: Context, room: Room, live: LiveMeeting | None, meetings: Iterable[LiveMeeting]) -> None:
    """Let one more person into the room's meeting (`live`, None before it opens), or raise:
    `company_suspended` (403) while the instance operator suspends the company, `room_full` or
    `company_quota_reached` (409) when the room or the company is at its limit."""
    company = await ctx.session.get(Company, room.company_id)
    assert company is not None
    if company.suspended_at is not None:
        raise MeetingError("the company is suspended by the instance operator", code="company_suspended")
    in_company = sum(len(m.state.participants) for m in meetings if m.company_id == room.company_id)
    decided = quotas.entry_refusal(
        in_room=len(live.state.participants) if live is not None else 0,
        room_max=room.max_participants,
        in_company=in_company,
        company_max=company.max_participants,
    )
    if decided is not None:
        raise refused(decided)
