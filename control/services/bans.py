"""A room's bans outside meetings: listing them and lifting one without a running meeting
(`unban` inside a meeting is a moderation action of the service).

Who: the room's organizers and moderators (default role in the room) and holders of Administrate
rooms; a room of another company is not found. Lifting is audited (`room.unban`), and a meeting
running in the room stops refusing the person at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from control.domain.meeting_state import USER_PREFIX
from control.domain.roles import Role
from control.domain.rooms import may_administrate_room, names_visible
from control.errors import Forbidden, NotFound
from control.meetings.service import MeetingService
from control.services import rooms
from control.services.context import Context, record
from control.store.repositories.meetings import MeetingStore
from control.store.repositories.users import Users
from control.types import Principal


@dataclass(frozen=True)
class Ban:
    person: str
    """u:<user id> or g:<invitation id>."""
    name: str | None
    """The user's name or the guest's invitee name, when still known and the caller holds Show all
    usernames."""
    banned_at: datetime


log = logging.getLogger("podium.bans")


async def _moderated_room(ctx: Context, principal: Principal, room_id: str) -> None:
    view = await rooms.get_room(ctx, principal, room_id)  # NotFound for rooms the caller cannot see
    if view.role not in (Role.ORGANIZER, Role.MODERATOR) and not may_administrate_room(principal.permissions, None):
        raise Forbidden(
            "only the room's organizers and moderators, and holders of 'Administrate rooms', manage its bans",
            code="no_access",
        )


async def _names(ctx: Context, company_id: str, persons: set[str]) -> dict[str, str]:
    users = {p[len(USER_PREFIX) :] for p in persons if p.startswith(USER_PREFIX)}
    guests = {p for p in persons if p.startswith("g:")}
    names: dict[str, str] = {}
    if users:
        names.update(
            (USER_PREFIX + user_id, name)
            for user_id, name in (await Users(ctx.session, company_id).names(users)).items()
        )
    if guests:
        names.update(await MeetingStore(ctx.session).invitee_names(company_id, guests))
    return names


async def list_bans(ctx: Context, principal: Principal, room_id: str) -> list[Ban]:
    """The room's bans in force, oldest first (one entry per person)."""
    await _moderated_room(ctx, principal, room_id)
    rows = [r for r in await MeetingStore(ctx.session).removals(room_id, ctx.now()) if r.kind == "ban"]
    rows.sort(key=lambda r: r.created_at)
    # names by the rule "Show all usernames": without it, only the person keys (enough to unban)
    names = (
        await _names(ctx, principal.company_id, {r.person for r in rows})
        if names_visible(principal.permissions)
        else {}
    )
    seen: dict[str, Ban] = {}
    for r in rows:
        seen.setdefault(r.person, Ban(r.person, names.get(r.person), r.created_at))
    return list(seen.values())


async def unban(ctx: Context, principal: Principal, room_id: str, person: str, service: MeetingService) -> None:
    """Lift the person's ban in the room (NotFound when none is in force)."""
    await _moderated_room(ctx, principal, room_id)
    lifted = await MeetingStore(ctx.session).lift_bans(room_id, person, ctx.now())
    if not lifted:
        raise NotFound(f"{person} is not banned from this room")
    await record(ctx, principal, "room.unban", "room", room_id, after={"person": person, "bans_lifted": lifted})
    await ctx.session.commit()
    live = service.meeting_of_room(room_id)
    if live is not None:
        async with live.lock:
            live.state = replace(live.state, bans=live.state.bans - {person})
            try:  # the lifted ban is committed above; a restored meeting reads bans from there too
                await service.commits.save(live)
            except Exception:
                log.exception("meeting %s: the lifted ban was not written into its document", live.id)
