"""Running meetings' documents (control.store.models.live_meeting)."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import LiveMeetingRow, LivePeerRow, Meeting


class LiveMeetings:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def save(
        self,
        meeting_id: str,
        document: dict[str, Any],
        now: datetime,
        *,
        stored: bool = False,
        peers: Mapping[str, dict[str, Any]] = {},
        known: Iterable[str] = (),
        gone: Iterable[str] = (),
    ) -> None:
        """Write the meeting's document (`stored`: its row exists), the peers given (`known`: those
        already stored), and delete the peers gone. Writes only, no reads. Flushed, not committed:
        the caller commits with what else the change wrote (its audit entry, removals)."""
        if stored:
            await self.session.execute(
                update(LiveMeetingRow)
                .where(LiveMeetingRow.meeting_id == meeting_id)
                .values(document=document, updated_at=now)
            )
        else:
            self.session.add(LiveMeetingRow(meeting_id=meeting_id, document=document, updated_at=now))
        known = set(known)
        for pid, data in peers.items():
            if pid in known:
                await self.session.execute(
                    update(LivePeerRow)
                    .where(LivePeerRow.meeting_id == meeting_id, LivePeerRow.participant_id == pid)
                    .values(document=data)
                )
            else:
                self.session.add(LivePeerRow(meeting_id=meeting_id, participant_id=pid, document=data))
        gone = list(gone)
        if gone:
            await self.session.execute(
                delete(LivePeerRow).where(LivePeerRow.meeting_id == meeting_id, LivePeerRow.participant_id.in_(gone))
            )
        await self.session.flush()

    async def forget(self, meeting_id: str) -> None:
        """The meeting ended: its documents go (peers first, for databases without cascades on)."""
        await self.session.execute(delete(LivePeerRow).where(LivePeerRow.meeting_id == meeting_id))
        await self.session.execute(delete(LiveMeetingRow).where(LiveMeetingRow.meeting_id == meeting_id))

    async def running(
        self, room_id: str | None = None
    ) -> list[tuple[Meeting, dict[str, Any] | None, dict[str, dict[str, Any]]]]:
        """Every meeting not ended (of one room: `room_id`), with its document (None if it has none)
        and its peers' documents."""
        query = select(Meeting).where(Meeting.ended_at.is_(None))
        if room_id is not None:
            query = query.where(Meeting.room_id == room_id)
        meetings = list(await self.session.scalars(query))
        out = []
        for meeting in meetings:
            row = await self.session.get(LiveMeetingRow, meeting.id)
            peers = await self.session.scalars(select(LivePeerRow).where(LivePeerRow.meeting_id == meeting.id))
            out.append((meeting, row.document if row else None, {p.participant_id: p.document for p in peers}))
        return out
