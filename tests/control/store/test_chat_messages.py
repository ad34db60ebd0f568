"""Chat messages in the store, on SQLite and PostgreSQL: raw text round trips, what each person sees,
pagination, tenant scoping, and deletion with the meeting."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.models import ChatMessage, Company, Meeting, Room, User
from control.store.repositories.chat import ChatMessages

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(any_database_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_engine(any_database_url)
    await migrate.upgrade(e)
    try:
        yield e
    finally:
        await e.dispose()


async def make_meeting(engine: AsyncEngine, slug: str) -> Meeting:
    async with create_sessionmaker(engine)() as s:
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


def message(
    meeting: Meeting, sender: str, text: str, recipient: str | None = None, *, at: datetime = T0
) -> ChatMessage:
    """`sender`, `recipient`: person keys; the participant is p-<person>, the name its capitalized key."""
    return ChatMessage(
        meeting_id=meeting.id,
        sent_at=at,
        sender_person=sender,
        sender_participant=f"p-{sender}",
        sender_name=sender.capitalize(),
        recipient_person=recipient,
        recipient_participant=f"p-{recipient}" if recipient else None,
        recipient_name=recipient.capitalize() if recipient else None,
        text=text,
    )


async def test_messages_round_trip_and_each_person_sees_their_own(engine):
    meeting = await make_meeting(engine, "acme")
    other = await make_meeting(engine, "globex")
    raw = '<b>bold</b> & "quoted" \' ; DROP TABLE chat_messages; -- 👋\nsecond line'
    sessions = create_sessionmaker(engine)
    async with sessions() as s:
        messages = ChatMessages(s, meeting.company_id)
        await messages.add(message(meeting, "ann", raw))
        await messages.add(message(meeting, "ann", "psst", "bob", at=T0 + timedelta(seconds=1)))
        await messages.add(message(meeting, "org", "to ann", "ann", at=T0 + timedelta(seconds=2)))
        await messages.add(message(meeting, "bob", "hi all", at=T0 + timedelta(seconds=3)))
        await s.commit()
    async with sessions() as s:
        messages = ChatMessages(s, meeting.company_id)
        ann = await messages.history(meeting.id, ("ann",))
        bob = await messages.history(meeting.id, ("bob",))
        org = await messages.history(meeting.id, ("org", "u:org"))
        nobody = await messages.history(meeting.id, ())
        assert [m.text for m in ann.items] == [raw, "psst", "to ann", "hi all"] and ann.total == 4
        assert [m.text for m in bob.items] == [raw, "psst", "hi all"]
        assert [m.text for m in org.items] == [raw, "to ann", "hi all"]
        assert [m.text for m in nobody.items] == [raw, "hi all"]
        first = ann.items[0]
        assert first.text == raw and first.sent_at == T0 and first.company_id == meeting.company_id
        private = ann.items[1]
        assert (private.sender_person, private.recipient_person, private.recipient_name) == ("ann", "bob", "Bob")
        page = await messages.history(meeting.id, ("ann",), offset=1, limit=2)
        assert [m.text for m in page.items] == ["psst", "to ann"] and page.total == 4
        later = await messages.history(meeting.id, ("ann",), after_id=ann.items[1].id)
        assert [m.text for m in later.items] == ["to ann", "hi all"]
        assert await messages.involved(meeting.id, "bob") and not await messages.involved(meeting.id, "mute")
        foreign = ChatMessages(s, other.company_id)
        assert (await foreign.history(meeting.id, ("ann",))).total == 0
        assert not await foreign.involved(meeting.id, "ann")
        await s.delete(await s.get(Meeting, meeting.id))
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(ChatMessage)) == 0
