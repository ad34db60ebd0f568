"""Who joins: the person behind a join token (a guest's signed token from a redeemed invitation, or
a user's access token) and the room, with the rights they hold in it; MeetingError or
Unauthenticated otherwise."""

from __future__ import annotations

from control.domain.meeting_state import USER_PREFIX
from control.domain.roles import Capability
from control.domain.rooms import has_access, rights_in_room
from control.errors import Unauthenticated
from control.meetings import guests, visibility
from control.meetings.errors import MeetingError
from control.meetings.live import Identity
from control.services import auth
from control.services.context import Context
from control.store.models import Room
from control.store.repositories.meetings import MeetingStore
from control.store.repositories.rooms import Rooms
from control.store.repositories.users import Users


async def identify_token(ctx: Context, token: str, room_id: str) -> tuple[Identity, Room]:
    """The person behind a join token, with the room."""
    if guests.looks_like_guest_token(token):
        claims = guests.verify(ctx.token_key, token)
        store = MeetingStore(ctx.session)
        session = await store.guest_session(claims.session_id)
        if session is None or session.revoked_at is not None or session.expires_at <= ctx.now():
            raise Unauthenticated("guest token revoked or expired", code="invalid_token")
        invitation = await store.invitation(session.invitation_id)
        if invitation is None or invitation.revoked_at is not None:
            raise Unauthenticated("guest token revoked", code="invalid_token")
        if invitation.room_id != room_id:
            raise MeetingError("this invitation is for another room", code="no_access")
        room = await ctx.session.get(Room, room_id)
        if room is None:
            raise MeetingError("room not found", code="no_access")
        rights = frozenset(Capability(r) for r in invitation.rights)
        # the name the guest entered at redemption (signed into the token); the person key
        # stays the invitation's invitee key, for bans, removals and the audit log
        return Identity(
            invitation.invitee_key,
            claims.name or invitation.invitee_name,
            False,
            room.company_id,
            rights=rights,
            guest_session=session.id,
        ), room
    principal = await auth.authenticate(ctx, token)
    if principal.api_key_id is not None:
        raise MeetingError("join with a user's access token, not an API key", code="no_access")
    rooms = Rooms(ctx.session, principal.company_id)
    room = await rooms.get(room_id)
    role = await rooms.role(room_id, principal.user_id) if room else None
    if room is None or not has_access(principal.permissions, role):
        raise MeetingError("no access to this room", code="no_access")
    role = rights_in_room(principal.permissions, role)
    user = await Users(ctx.session, principal.company_id).get(principal.user_id)
    assert user is not None
    return Identity(
        USER_PREFIX + user.id,
        user.name,
        True,
        principal.company_id,
        user_id=user.id,
        room_role=role,
        names_visible=visibility.viewer(principal.permissions).names,
    ), room
