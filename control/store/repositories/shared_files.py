"""Shared files and conference materials of one company (table shared_files)."""

from sqlalchemy import func, or_, select

from control.domain.files import Purpose
from control.store.models import SharedFile
from control.store.repositories import TenantRepository


class SharedFiles(TenantRepository):
    async def get(self, file_id: str) -> SharedFile | None:
        return await self.session.scalar(
            select(SharedFile).where(SharedFile.company_id == self.company_id, SharedFile.id == file_id)
        )

    async def used_bytes(self) -> int:
        """Bytes the company's files hold: what counts against its storage quota."""
        return int(
            await self.session.scalar(
                select(func.coalesce(func.sum(SharedFile.size), 0)).where(SharedFile.company_id == self.company_id)
            )
            or 0
        )

    async def add(self, file: SharedFile) -> SharedFile:
        file.company_id = self.company_id
        self.session.add(file)
        await self.session.flush()
        return file

    async def delete(self, file: SharedFile) -> None:
        await self.session.delete(file)
        await self.session.flush()

    async def in_meeting(self, meeting_id: str, persons: tuple[str, ...] | None) -> list[SharedFile]:
        """A meeting's chat files, oldest first: those to everyone and, of the one-to-one ones, those the
        person (under any of the keys) sent or received; `persons` None: those to everyone only."""
        query = select(SharedFile).where(
            SharedFile.company_id == self.company_id,
            SharedFile.meeting_id == meeting_id,
            SharedFile.purpose == Purpose.CHAT.value,
        )
        mine = [SharedFile.recipient_person.is_(None)]
        if persons:
            mine += [SharedFile.uploader_person.in_(persons), SharedFile.recipient_person.in_(persons)]
        return list(await self.session.scalars(query.where(or_(*mine)).order_by(SharedFile.created_at, SharedFile.id)))

    async def materials(self, room_id: str) -> list[SharedFile]:
        """A room's conference materials, oldest first."""
        return list(
            await self.session.scalars(
                select(SharedFile)
                .where(
                    SharedFile.company_id == self.company_id,
                    SharedFile.room_id == room_id,
                    SharedFile.purpose == Purpose.MATERIAL.value,
                )
                .order_by(SharedFile.created_at, SharedFile.id)
            )
        )

    async def keys(self, room_id: str | None = None) -> list[str]:
        """The storage keys of the company's files (of one room): what deleting it leaves to remove."""
        query = select(SharedFile.storage_key).where(SharedFile.company_id == self.company_id)
        if room_id is not None:
            query = query.where(SharedFile.room_id == room_id)
        return list(await self.session.scalars(query))
