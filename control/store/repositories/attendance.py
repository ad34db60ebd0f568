"""Attendance events of one company's meetings (table attendance_events, append-only, so that every
report can be rebuilt)."""

from collections.abc import Iterable

from sqlalchemy import exists, select

from control.store.models import AttendanceEvent
from control.store.repositories import TenantRepository


class AttendanceEvents(TenantRepository):
    async def add(self, event: AttendanceEvent) -> None:
        """Append one event (flushed, not committed)."""
        event.company_id = self.company_id
        self.session.add(event)
        await self.session.flush()

    async def of_meeting(self, meeting_id: str) -> list[AttendanceEvent]:
        """The meeting's events in the order they were recorded."""
        rows = await self.session.scalars(
            select(AttendanceEvent)
            .where(AttendanceEvent.company_id == self.company_id, AttendanceEvent.meeting_id == meeting_id)
            .order_by(AttendanceEvent.id)
        )
        return list(rows)

    async def names_of(self, meeting_id: str, participant: str) -> list[tuple[str, str]]:
        """(person key, display name) of each event of a participant id, in the order recorded."""
        rows = await self.session.execute(
            select(AttendanceEvent.person, AttendanceEvent.name)
            .where(
                AttendanceEvent.company_id == self.company_id,
                AttendanceEvent.meeting_id == meeting_id,
                AttendanceEvent.participant == participant,
            )
            .order_by(AttendanceEvent.id)
        )
        return [(person, name) for person, name in rows]

    async def any_of(
        self, meeting_id: str, persons: Iterable[str], *, kind: str | None = None, details: Iterable[str] | None = None
    ) -> bool:
        """Whether an event of the person (under any of the keys) exists in the meeting, of `kind` and
        with one of `details` where given."""
        where = [
            AttendanceEvent.company_id == self.company_id,
            AttendanceEvent.meeting_id == meeting_id,
            AttendanceEvent.person.in_(list(persons)),
        ]
        if kind is not None:
            where.append(AttendanceEvent.kind == kind)
        if details is not None:
            where.append(AttendanceEvent.detail.in_(list(details)))
        return bool(await self.session.scalar(select(exists().where(*where))))
