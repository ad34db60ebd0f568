"""Attendance events stored and read back on SQLite and PostgreSQL: round trips, tenant scoping,
deletion with the meeting."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from control.domain.attendance import Event, attendance
from control.domain.attendance import EventKind as K
from control.domain.roles import Role, Source
from control.services.attendance import AttendanceRecorder, report_csv, report_json
from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.models import AttendanceEvent, Company, Meeting, Room, User

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Db:
    engine: AsyncEngine

    def session(self) -> AsyncSession:
        return create_sessionmaker(self.engine)()

    async def meeting(self, slug: str) -> Meeting:
        """A company with a user, a room and a meeting of it."""
        async with self.session() as s:
            company = Company(slug=slug, name=slug, max_rooms=5, max_users=5, max_participants=5)
            s.add(company)
            await s.flush()
            user = User(company_id=company.id, email=f"o@{slug}.example", name="O")
            room = Room(company_id=company.id, name="R", max_participants=5)
            s.add_all([user, room])
            await s.flush()
            meeting = Meeting(company_id=company.id, room_id=room.id, opened_by=user.id, started_at=T0)
            s.add(meeting)
            await s.commit()
            return meeting


@pytest.fixture
async def db(any_database_url: str) -> AsyncIterator[Db]:
    engine = create_engine(any_database_url)
    await migrate.upgrade(engine)
    try:
        yield Db(engine)
    finally:
        await engine.dispose()


SCRIPT = [
    ("ann", "a1", K.JOINED, 0, {"name": "Ann <b>&amp;</b> 'quoted' ✓"}),
    ("ann", "a1", K.ROLE, 0, {"role": Role.ORGANIZER}),
    ("ann", "a1", K.SOURCE_ON, 5, {"source": Source.MICROPHONE}),
    ("bob", "b1", K.WAITING, 10, {"name": "Bob"}),
    ("bob", "b1", K.ADMITTED, 40, {}),
    ("bob", "b1", K.SOURCE_ON, 45, {"source": Source.SCREEN}),
    ("ann", "a1", K.SOURCE_OFF, 65, {"source": Source.MICROPHONE}),
    ("bob", "b1", K.LEFT, 100, {}),
    ("ann", "a2", K.JOINED, 100, {}),  # a second device
    ("ann", "a1", K.LEFT, 120, {}),
]


async def record_script(recorder: AttendanceRecorder, meeting_id: str) -> list[Event]:
    expected = []
    for person, participant, kind, at, options in SCRIPT:
        await recorder.record(
            meeting_id,
            person,
            str(options.get("name", "")),
            kind,
            t(at),
            participant=participant,
            source=options.get("source"),
            role=options.get("role"),
        )  # type: ignore[arg-type]
        expected.append(
            Event(
                at=t(at),
                person=person,
                kind=kind,
                participant=participant,
                name=str(options.get("name", "")),
                source=options.get("source"),  # type: ignore[arg-type]
                role=options.get("role"),
            )
        )  # type: ignore[arg-type]
    return expected


async def test_events_round_trip_and_rebuild_the_report(db: Db):
    meeting = await db.meeting("acme")
    async with db.session() as s:
        expected = await record_script(AttendanceRecorder(s, meeting.company_id), meeting.id)
        await s.commit()
    async with db.session() as s:
        recorder = AttendanceRecorder(s, meeting.company_id)
        assert await recorder.events(meeting.id) == expected
        report = await recorder.report(meeting.id, until=t(200), started_at=T0)
    assert report.people == attendance(expected, t(200))
    ann, bob = report.people
    assert ann.name == "Ann <b>&amp;</b> 'quoted' ✓" and ann.role is Role.ORGANIZER  # stored raw
    assert ann.total.total_seconds() == 200 and ann.media["microphone"].total_seconds() == 60
    assert bob.total.total_seconds() == 60 and bob.waiting.total_seconds() == 30
    assert bob.media["screen_share"].total_seconds() == 55
    assert [(p.person, p.waiting) for p in report.present] == [("ann", False)]  # the live list
    body = report_json(report)
    assert body["people"][1]["sessions"] == [{"joined_at": "2030-01-01T09:00:40Z", "left_at": "2030-01-01T09:01:40Z"}]
    assert report_csv(report).count("\r\n") == 3


async def test_another_company_sees_nothing_of_the_meeting(db: Db):
    meeting = await db.meeting("acme")
    other = await db.meeting("globex")
    async with db.session() as s:
        await record_script(AttendanceRecorder(s, meeting.company_id), meeting.id)
        await s.commit()
    async with db.session() as s:
        foreign = AttendanceRecorder(s, other.company_id)
        assert await foreign.events(meeting.id) == []
        assert (await foreign.report(meeting.id, until=t(200))).people == []
        assert not await foreign.took_part(meeting.id, "ann")
        assert not await foreign.moderated(meeting.id, "ann")
        mine = AttendanceRecorder(s, meeting.company_id)
        assert await mine.took_part(meeting.id, "bob") and not await mine.took_part(meeting.id, "cy")
        assert await mine.moderated(meeting.id, "ann") and not await mine.moderated(meeting.id, "bob")


async def test_events_go_with_their_meeting(db: Db):
    meeting = await db.meeting("acme")
    async with db.session() as s:
        await record_script(AttendanceRecorder(s, meeting.company_id), meeting.id)
        await s.commit()
        await s.delete(await s.get(Meeting, meeting.id))
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(AttendanceEvent)) == 0


async def test_recording_refuses_inconsistent_events(db: Db):
    meeting = await db.meeting("acme")
    async with db.session() as s:
        recorder = AttendanceRecorder(s, meeting.company_id)
        with pytest.raises(ValueError, match="needs source"):
            await recorder.record(meeting.id, "ann", "", K.SOURCE_ON, t(0))
        with pytest.raises(ValueError, match="takes no role"):
            await recorder.record(meeting.id, "ann", "", K.JOINED, t(0), role=Role.MODERATOR)
        with pytest.raises(ValueError, match="aware"):
            await recorder.record(meeting.id, "ann", "", K.JOINED, datetime(2030, 1, 1))
