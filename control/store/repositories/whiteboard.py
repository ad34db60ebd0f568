"""Whiteboard operations of one company's meetings (table whiteboard_ops, append-only)."""

from sqlalchemy import select

from control.store.models import WhiteboardOpRow
from control.store.repositories import TenantRepository


class WhiteboardOps(TenantRepository):
    async def add(self, row: WhiteboardOpRow) -> None:
        """Append one operation (flushed, not committed); its (meeting, seq) must be free."""
        row.company_id = self.company_id
        self.session.add(row)
        await self.session.flush()

    async def of_meeting(self, meeting_id: str) -> list[WhiteboardOpRow]:
        """Every operation of the meeting's board, in order."""
        query = select(WhiteboardOpRow).where(
            WhiteboardOpRow.company_id == self.company_id, WhiteboardOpRow.meeting_id == meeting_id
        )
        return list(await self.session.scalars(query.order_by(WhiteboardOpRow.seq)))
