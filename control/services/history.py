"""A room's meetings, past and running: what attendance reports are chosen from.

Who: holders of Administrate rooms, and the room's organizers and moderators (their default role in
the room). A room of another company, or a hidden room the caller has no access to, is not found.
"""

from __future__ import annotations

from control.domain.roles import Role
from control.domain.rooms import may_administrate_room
from control.errors import Forbidden
from control.services import rooms
from control.services.context import Context
from control.store.models import Meeting
from control.store.repositories import Page
from control.store.repositories.meetings import MeetingStore
from control.types import Principal


async def list_meetings(ctx: Context, principal: Principal, room_id: str, *, offset: int, limit: int) -> Page[Meeting]:
    """The room's meetings, newest first (by start; the running one, if any, comes first)."""
    view = await rooms.get_room(ctx, principal, room_id)  # NotFound for rooms the caller cannot see
    if view.role not in (Role.ORGANIZER, Role.MODERATOR) and not may_administrate_room(principal.permissions, None):
        raise Forbidden(
            "only the room's organizers and moderators, and holders of 'Administrate rooms', list its meetings",
            code="no_access",
        )
    return await MeetingStore(ctx.session).of_room(principal.company_id, room_id, offset=offset, limit=limit)
