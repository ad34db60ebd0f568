"""Company quotas: pure checks over counts."""

from dataclasses import dataclass


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
