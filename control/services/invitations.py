"""Guest invitations: issuing, listing, revoking and redeeming links (control.domain.invitations
decides; this module loads and stores)."""

from __future__ import annotations

import secrets as pysecrets
from datetime import datetime, timedelta

from control.domain import invitations as policy
from control.domain.meeting_state import USER_PREFIX, Code, Refused, Removal
from control.domain.moderation import Reason
from control.domain.roles import Capability, Role, default_capabilities
from control.domain.rooms import may_administrate_room
from control.errors import Forbidden, NotFound
from control.meetings import guests
from control.meetings.service import MeetingError, MeetingService, refused
from control.security import secrets
from control.services import rooms
from control.services.context import Context, record
from control.store.models import GuestInvitation, GuestSession
from control.store.repositories.meetings import MeetingStore
from control.types import Principal

GUEST_TOKEN_TTL = timedelta(hours=12)
DEFAULT_WINDOW = timedelta(hours=24)


def _issuer_rights(view: rooms.RoomView, principal: Principal) -> frozenset[Capability]:
    if view.role is None and not may_administrate_room(principal.permissions, None):
        return frozenset()
    role = view.role or Role.ORGANIZER
    return default_capabilities(role, screen_share_allowed=view.room.screen_share)


async def issue(
    ctx: Context,
    principal: Principal,
    room_id: str,
    invitee_name: str,
    rights: frozenset[Capability],
    not_before: datetime | None,
    not_after: datetime | None,
) -> tuple[GuestInvitation, str]:
    view = await rooms.get_room(ctx, principal, room_id)
    if view.role is None and not may_administrate_room(principal.permissions, None):
        raise Forbidden("only people with access to the room invite guests to it", code="no_access")
    start = not_before or ctx.now()
    end = not_after or start + DEFAULT_WINDOW
    invitation_id = pysecrets.token_hex(16)
    decided = policy.issue(
        invitation_id=invitation_id,
        room=room_id,
        issuer=USER_PREFIX + principal.user_id,
        issuer_rights=_issuer_rights(view, principal),
        invitee_name=invitee_name,
        invitee="g:" + invitation_id,
        rights=rights,
        not_before=start.timestamp(),
        not_after=end.timestamp(),
        now=ctx.now().timestamp(),
    )
    if isinstance(decided, Refused):
        raise refused(decided)
    secret = secrets.new_secret()
    row = GuestInvitation(
        id=invitation_id,
        company_id=principal.company_id,
        room_id=room_id,
        issuer_user_id=principal.user_id,
        invitee_name=decided.invitee_name,
        invitee_key=decided.invitee,
        rights=sorted(str(r) for r in decided.rights),
        not_before=start,
        not_after=end,
        secret_hash=secrets.digest(secret),
        created_at=ctx.now(),
    )
    await MeetingStore(ctx.session).add(row)
    await record(
        ctx,
        principal,
        "invitation.issued",
        "invitation",
        row.id,
        after={"room_id": room_id, "invitee_name": row.invitee_name, "rights": row.rights},
    )
    await ctx.session.commit()
    return row, secret


async def _manageable(ctx: Context, principal: Principal, room_id: str) -> None:
    view = await rooms.get_room(ctx, principal, room_id)
    if view.role not in (Role.ORGANIZER, Role.MODERATOR) and not may_administrate_room(principal.permissions, None):
        raise Forbidden("only the room's organizers and moderators manage its invitations", code="no_access")


async def list_for_room(ctx: Context, principal: Principal, room_id: str) -> list[GuestInvitation]:
    await _manageable(ctx, principal, room_id)
    return await MeetingStore(ctx.session).invitations(room_id)


async def revoke(ctx: Context, principal: Principal, invitation_id: str) -> None:
    store = MeetingStore(ctx.session)
    row = await store.invitation(invitation_id)
    if row is None or row.company_id != principal.company_id:
        raise NotFound(f"invitation {invitation_id} not found")
    if row.issuer_user_id != principal.user_id:
        await _manageable(ctx, principal, row.room_id)
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
    await store.revoke_invitation_sessions(row.id, ctx.now())
    await record(ctx, principal, "invitation.revoked", "invitation", row.id)
    await ctx.session.commit()


async def disconnect_guest(service: MeetingService, invitation_id: str) -> None:
    """A revoked link's guest leaves the running meeting at once."""
    for live in list(service.live.values()):
        for p in live.state.of_person("g:" + invitation_id):
            await service.leave(live, p.id, Reason.REVOKED)


async def redeem(
    ctx: Context, secret: str, browser: str, service: MeetingService, name: str | None = None
) -> tuple[str, GuestInvitation, timedelta]:
    """A guest token for the link's invitee, from this browser. `name`: the display name the guest
    entered (validated by the caller, guests.display_name_problem), shown to others instead of the
    invitee name; the invitee's person key stays what bans, removals and the audit log name."""
    store = MeetingStore(ctx.session)
    row = await store.invitation_by_secret(secrets.digest(secret))
    if row is None:
        raise NotFound("invitation not found")
    now = ctx.now()
    rows = await store.removals(row.room_id, now)
    removals = [Removal(r.person, r.until.timestamp()) for r in rows if r.kind == "removal" and r.until]
    bans = [r.person for r in rows if r.kind == "ban"]
    live = service.meeting_of_room(row.room_id)
    excluded = live.state.excluded if live else frozenset()
    binding = secrets.digest(browser)
    invitation = policy.Invitation(
        row.id,
        row.room_id,
        USER_PREFIX + row.issuer_user_id,
        row.invitee_name,
        row.invitee_key,
        frozenset(Capability(r) for r in row.rights),
        row.not_before.timestamp(),
        row.not_after.timestamp(),
        revoked=row.revoked_at is not None,
        browser=row.browser_hash,
    )
    decided = policy.redeem(invitation, now.timestamp(), binding, removals=removals, bans=bans, excluded=excluded)
    if isinstance(decided, Refused):
        raise refused(decided)
    if row.browser_hash is None:
        row.browser_hash = binding
        row.redeemed_at = now
    ttl = min(GUEST_TOKEN_TTL, row.not_after - now)
    session = GuestSession(
        invitation_id=row.id, room_id=row.room_id, person=row.invitee_key, created_at=now, expires_at=now + ttl
    )
    await store.add(session)
    await ctx.session.commit()
    token = guests.issue(ctx.token_key, guests.GuestClaims(session.id, row.room_id, row.invitee_key, name), ttl, now)
    return token, row, ttl


__all__ = ["Code", "MeetingError", "issue", "list_for_room", "redeem", "revoke"]
