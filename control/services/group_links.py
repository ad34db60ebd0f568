"""Group links: room links for registered users of the room's company (control.domain.group_links).

Created, listed and revoked by those who administer the room (Administrate rooms, or its organizer);
redeemed by an authenticated user (or an API key acting as one) of the same company, which gives that
user an access right in the room. Guests have no account and cannot redeem them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from control.domain import group_links as policy
from control.domain.roles import Role
from control.domain.rooms import may_administrate_room
from control.errors import Conflict, Forbidden, Invalid, NotFound
from control.security import secrets
from control.services import rooms
from control.services.context import Context, record
from control.store.models import GroupLink
from control.store.repositories import Page
from control.store.repositories.addins import GroupLinks
from control.store.repositories.rooms import Rooms
from control.store.repositories.users import Users
from control.types import Principal

MAX_LINKS_PER_ROOM = 100
"""Unrevoked group links a room may hold."""


@dataclass(frozen=True)
class NewLink:
    link: GroupLink
    secret: str
    """Shown once; only its digest is stored."""


@dataclass(frozen=True)
class Redemption:
    room_id: str
    role: Role
    """The redeemer's role in the room now."""
    changed: bool
    """False: the redeemer already held this role or a higher one, and nothing was written."""


def snapshot(link: GroupLink) -> dict[str, Any]:
    """The audit picture of a link (never its secret)."""
    return {
        "room_id": link.room_id,
        "name": link.name,
        "role": link.role,
        "user_ids": link.user_ids,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "revoked": link.revoked_at is not None,
    }


async def _administered(ctx: Context, principal: Principal, room_id: str) -> rooms.RoomView:
    """A room the caller sees and administers; a room it does not see is not found."""
    view = await rooms.get_room(ctx, principal, room_id)
    if not may_administrate_room(principal.permissions, view.role):
        raise Forbidden(
            "this requires the permission 'Administrate rooms' or organizing the room",
            code="room_administration_required",
        )
    return view


async def create(
    ctx: Context,
    principal: Principal,
    room_id: str,
    *,
    name: str,
    role: Role,
    user_ids: list[str] | None,
    expires_at: datetime | None,
) -> NewLink:
    if role not in policy.LINK_ROLES:  # the API's schema refuses it first
        raise Invalid(
            "a group link gives the participant or moderator role",
            details=[{"field": "body.role", "message": "must be participant or moderator", "type": "enum"}],
        )
    view = await _administered(ctx, principal, room_id)
    if expires_at is not None and expires_at <= ctx.now():
        raise Conflict("the expiry has passed already", code="expiry_in_past")
    listed = sorted(set(user_ids)) if user_ids is not None else None
    if listed is not None:
        users = Users(ctx.session, principal.company_id)
        for user_id in listed:
            if await users.get(user_id) is None:
                raise NotFound(f"user {user_id} not found")
    repo = GroupLinks(ctx.session, principal.company_id)
    if await repo.count_unrevoked(view.room.id) >= MAX_LINKS_PER_ROOM:
        raise Conflict(
            f"a room holds at most {MAX_LINKS_PER_ROOM} unrevoked group links; revoke one", code="quota_exceeded"
        )
    secret = secrets.new_secret()
    link = await repo.add(
        GroupLink(
            room_id=view.room.id,
            name=name,
            role=role.value,
            user_ids=listed,
            secret_hash=secrets.digest(secret),
            created_by=principal.user_id,
            created_at=ctx.now(),
            expires_at=expires_at,
        )
    )
    await record(ctx, principal, "group_link.created", "group_link", link.id, after=snapshot(link))
    await ctx.session.commit()
    return NewLink(link, secret)


async def list_links(ctx: Context, principal: Principal, room_id: str, *, offset: int, limit: int) -> Page[GroupLink]:
    view = await _administered(ctx, principal, room_id)
    return await GroupLinks(ctx.session, principal.company_id).list(view.room.id, offset=offset, limit=limit)


async def get(ctx: Context, principal: Principal, room_id: str, link_id: str) -> GroupLink:
    view = await _administered(ctx, principal, room_id)
    link = await GroupLinks(ctx.session, principal.company_id).get(view.room.id, link_id)
    if link is None:
        raise NotFound(f"group link {link_id} not found")
    return link


async def revoke(ctx: Context, principal: Principal, room_id: str, link_id: str) -> None:
    """Revoke a link; revoking a revoked link changes nothing. Access rights it gave stay (remove them
    with DELETE /rooms/{room_id}/access/{user_id})."""
    link = await get(ctx, principal, room_id, link_id)
    if link.revoked_at is None:
        before = snapshot(link)
        link.revoked_at = ctx.now()
        await record(ctx, principal, "group_link.revoked", "group_link", link.id, before=before, after=snapshot(link))
    await ctx.session.commit()


async def redeem(ctx: Context, principal: Principal, secret: str) -> Redemption:
    """Give the caller an access right in the link's room with the link's role, never lowering its role."""
    link = await GroupLinks(ctx.session, principal.company_id).by_secret_hash(secrets.digest(secret))
    if link is None:
        raise NotFound("group link not found", code="group_link_not_found")
    decided = policy.refusal(
        policy.Link(
            Role(link.role),
            link.user_ids,
            link.expires_at.timestamp() if link.expires_at else None,
            revoked=link.revoked_at is not None,
        ),
        user_id=principal.user_id,
        now=ctx.now().timestamp(),
    )
    if decided is not None:
        messages = {
            policy.Refusal.REVOKED: "the group link was revoked",
            policy.Refusal.EXPIRED: "the group link has expired",
            policy.Refusal.NOT_LISTED: "the group link is for other users",
        }
        raise Forbidden(messages[decided], code=decided.value)
    room_repo = Rooms(ctx.session, principal.company_id)
    current = await room_repo.role(link.room_id, principal.user_id)
    role = policy.role_after(current, Role(link.role))
    if role is current:
        await ctx.session.commit()
        return Redemption(link.room_id, role, changed=False)
    await room_repo.set_access(link.room_id, principal.user_id, role)
    await record(
        ctx,
        principal,
        "group_link.redeemed",
        "group_link",
        link.id,
        before={"room_id": link.room_id, "user_id": principal.user_id, "role": current.value if current else None},
        after={"room_id": link.room_id, "user_id": principal.user_id, "role": role.value},
    )
    await ctx.session.commit()
    return Redemption(link.room_id, role, changed=True)
