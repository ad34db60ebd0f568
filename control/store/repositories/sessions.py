from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import AuthSession


class AuthSessions:
    """Login sessions; reached through their user, whose company is checked by the caller."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, session_id: str) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id)

    async def by_refresh_hash(self, refresh_hash: str) -> AuthSession | None:
        return await self.session.scalar(select(AuthSession).where(AuthSession.refresh_hash == refresh_hash))

    async def add(self, auth_session: AuthSession) -> AuthSession:
        self.session.add(auth_session)
        await self.session.flush()
        return auth_session

    async def revoke_all(self, user_id: str, now: datetime) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
