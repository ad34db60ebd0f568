"""Company quotas: pure checks over counts.

At entry, everyone present in a meeting counts, admitted or waiting: a waiting person already holds
a connection and a media transport (a moderator may visit them), so leaving them out would let a
waiting room grow past what the room and the company were sized for.
"""

from dataclasses import dataclass

from control.domain.meeting_state import Code, Refused


@dataclass(frozen=True)
class Quotas:
    max_rooms: int
    """Rooms the company may hold."""
    max_users: int
    """Users, current and pending."""
    max_participants: int
    """Participants online at once across the company's meetings; also the ceiling of a room's maximum."""


def room_allowed(quotas: Quotas, rooms: int) -> bool:
    """Whether one more room fits beside the `rooms` the company holds."""
    return rooms < quotas.max_rooms


def user_allowed(quotas: Quotas, users: int) -> bool:
    return users < quotas.max_users


def room_size_allowed(quotas: Quotas, max_participants: int) -> bool:
    return 1 <= max_participants <= quotas.max_participants


def entry_refusal(*, in_room: int, room_max: int, in_company: int, company_max: int) -> Refused | None:
    """Why one more person may not enter a meeting, given those present (admitted or waiting) in the
    room's meeting and in all of the company's meetings, or None."""
    if in_room >= room_max:
        return Refused(Code.ROOM_FULL, f"the room is full: its maximum of {room_max} participants are present")
    if in_company >= company_max:
        return Refused(
            Code.COMPANY_QUOTA_REACHED,
            f"the company's quota of {company_max} participants online at once is reached",
        )
    return None
