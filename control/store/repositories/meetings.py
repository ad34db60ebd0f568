"""Meetings, guest invitations and sessions, room removals and bans (tables of migration 0002)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import GuestInvitation, GuestSession, Meeting, RoomRemoval
from control.store.repositories import Page, paginate


class MeetingStore:
    """Rows of the meetings layer; callers check the company of the room they reach them through."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    async def meeting(self, meeting_id: str) -> Meeting | None:
        return await self.session.get(Meeting, meeting_id)

    async def meeting_of_company(self, company_id: str, meeting_id: str) -> Meeting | None:
        return await self.session.scalar(
            select(Meeting).where(Meeting.id == meeting_id, Meeting.company_id == company_id)
        )

    async def of_room(self, company_id: str, room_id: str, *, offset: int, limit: int) -> Page[Meeting]:
        """The room's meetings, newest first (by start; the running one, if any, comes first)."""
        query = (
            select(Meeting)
            .where(Meeting.company_id == company_id, Meeting.room_id == room_id)
            .order_by(Meeting.started_at.desc(), Meeting.id.desc())
        )
        return await paginate(self.session, query, offset, limit)

    async def end_running(self, now: datetime, reason: str) -> None:
        """Meetings left running by a previous process end (their live state is gone)."""
        await self.session.execute(
            update(Meeting).where(Meeting.ended_at.is_(None)).values(ended_at=now, end_reason=reason)
        )

    async def invitation(self, invitation_id: str) -> GuestInvitation | None:
        return await self.session.get(GuestInvitation, invitation_id)

    async def invitation_by_secret(self, secret_hash: str) -> GuestInvitation | None:
        return await self.session.scalar(select(GuestInvitation).where(GuestInvitation.secret_hash == secret_hash))

    async def invitations(self, room_id: str) -> list[GuestInvitation]:
        rows = await self.session.scalars(
            select(GuestInvitation).where(GuestInvitation.room_id == room_id).order_by(GuestInvitation.created_at)
        )
        return list(rows)

    async def invitee_names(self, company_id: str, keys: Iterable[str]) -> dict[str, str]:
        """The invitee name of each guest person key that names an invitation of the company."""
        rows = await self.session.execute(
            select(GuestInvitation.invitee_key, GuestInvitation.invitee_name).where(
                GuestInvitation.company_id == company_id, GuestInvitation.invitee_key.in_(list(keys))
            )
        )
        return {key: name for key, name in rows}

    async def guest_session(self, session_id: str) -> GuestSession | None:
        return await self.session.get(GuestSession, session_id)

    async def revoke_person(self, person: str, now: datetime) -> None:
        """Every guest session and invitation of a guest person key, revoked."""
        await self.session.execute(
            update(GuestSession)
            .where(GuestSession.person == person, GuestSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self.session.execute(
            update(GuestInvitation)
            .where(GuestInvitation.invitee_key == person, GuestInvitation.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_invitation_sessions(self, invitation_id: str, now: datetime) -> None:
        await self.session.execute(
            update(GuestSession)
            .where(GuestSession.invitation_id == invitation_id, GuestSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def removals(self, room_id: str, now: datetime) -> list[RoomRemoval]:
        """Running removals and bans of a room."""
        rows = await self.session.scalars(
            select(RoomRemoval).where(
                RoomRemoval.room_id == room_id,
                RoomRemoval.lifted_at.is_(None),
                or_(RoomRemoval.kind == "ban", RoomRemoval.until > now),
            )
        )
        return list(rows)

    async def lift_bans(self, room_id: str, person: str, now: datetime) -> int:
        result = await self.session.execute(
            update(RoomRemoval)
            .where(
                RoomRemoval.room_id == room_id,
                RoomRemoval.person == person,
                RoomRemoval.kind == "ban",
                RoomRemoval.lifted_at.is_(None),
            )
            .values(lifted_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
