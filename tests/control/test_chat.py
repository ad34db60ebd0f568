"""Meeting chat: text validation, policy on send (room and per-participant switches, waiting room),
storage round trips on SQLite and PostgreSQL, history visibility and pagination, and the REST endpoint."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from control.attendance import AttendanceRecorder
from control.chat import MAX_TEXT, ChatRefused, ChatStore, send, text_problem
from control.domain.attendance import EventKind as K
from control.domain.meeting_state import MeetingState, Participant
from control.domain.permissions import Permission as P
from control.domain.roles import ALL_CAPABILITIES, Capability, Role
from control.errors import Invalid
from control.store import migrate
from control.store.models import ChatMessage, Company, Meeting, Room, User
from control.store.db import create_engine, create_sessionmaker

V1 = "/api/v1"
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
NO_CHAT = ALL_CAPABILITIES - {Capability.CHAT}


def state(**options: object) -> MeetingState:
    people = (
        Participant("p-org", "org", registered=True, role=Role.ORGANIZER, capabilities=ALL_CAPABILITIES),
        Participant("p-ann", "ann", registered=True, joined_at=1, capabilities=ALL_CAPABILITIES),
        Participant("p-bob", "bob", registered=True, joined_at=2, capabilities=ALL_CAPABILITIES),
        Participant("p-mute", "mute", registered=True, joined_at=3, capabilities=NO_CHAT),
        Participant("p-wait", "wait", registered=False, joined_at=4, waiting=True, capabilities=ALL_CAPABILITIES),
    )
    return MeetingState(participants=people, **options)  # type: ignore[arg-type]


NAMES = {"p-org": "Organizer", "p-ann": "Ann", "p-bob": "Bob"}


# --- text --------------------------------------------------------------------------------------


def test_text_rules():
    assert text_problem("hello\n\tworld <script>alert(1)</script> & 'quotes' 👋") is None
    assert text_problem("x" * MAX_TEXT) is None
    assert "at most" in (text_problem("x" * (MAX_TEXT + 1)) or "")
    assert "empty" in (text_problem(" \n\t ") or "")
    assert "empty" in (text_problem("") or "")
    assert "U+0000" in (text_problem("a\x00b") or "")
    assert "U+000D" in (text_problem("a\r\nb") or "")
    assert "U+001B" in (text_problem("\x1b[31mred") or "")
    assert "surrogate U+D800" in (text_problem("a\ud800") or "")


@given(st.text(max_size=50))
def test_every_accepted_text_is_storable_utf8_without_controls(text):
    if text_problem(text) is None:
        text.encode("utf-8")
        assert "\x00" not in text and text.strip()


# --- storage on both backends ----------------------------------------------------------------


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


async def test_send_and_history_round_trip(engine):
    meeting = await make_meeting(engine, "acme")
    other = await make_meeting(engine, "globex")
    raw = "<b>bold</b> & \"quoted\" ' ; DROP TABLE chat_messages; -- 👋\nsecond line"
    sessions = create_sessionmaker(engine)
    async with sessions() as s:
        store = ChatStore(s, meeting.company_id)
        s1 = state()
        await send(store, s1, meeting.id, "p-ann", raw, at=T0, names=NAMES)
        await send(store, s1, meeting.id, "p-ann", "psst", recipient="p-bob", at=T0 + timedelta(seconds=1), names=NAMES)
        await send(store, s1, meeting.id, "p-org", "to ann", recipient="p-ann", at=T0 + timedelta(seconds=2))
        await send(store, s1, meeting.id, "p-bob", "hi all", at=T0 + timedelta(seconds=3), names=NAMES)
        await s.commit()
    async with sessions() as s:
        store = ChatStore(s, meeting.company_id)
        ann = await store.history(meeting.id, "ann")
        bob = await store.history(meeting.id, "bob")
        org = await store.history(meeting.id, "org")
        nobody = await store.history(meeting.id, None)
        assert [m.text for m in ann.items] == [raw, "psst", "to ann", "hi all"] and ann.total == 4
        assert [m.text for m in bob.items] == [raw, "psst", "hi all"]
        assert [m.text for m in org.items] == [raw, "to ann", "hi all"]
        assert [m.text for m in nobody.items] == [raw, "hi all"]
        first = ann.items[0]
        assert first.text == raw and first.sent_at == T0 and first.sender_name == "Ann" and first.recipient_person is None
        private = ann.items[1]
        assert (private.sender_person, private.recipient_person, private.recipient_name) == ("ann", "bob", "Bob")
        assert ann.items[2].sender_name == "org" and ann.items[2].recipient_name == "ann"  # no names: person keys
        page = await store.history(meeting.id, "ann", offset=1, limit=2)
        assert [m.text for m in page.items] == ["psst", "to ann"] and page.total == 4
        later = await store.history(meeting.id, "ann", after_id=ann.items[1].id)
        assert [m.text for m in later.items] == ["to ann", "hi all"]
        assert await store.involved(meeting.id, "bob") and not await store.involved(meeting.id, "mute")
        foreign = ChatStore(s, other.company_id)
        assert (await foreign.history(meeting.id, "ann")).total == 0
        assert not await foreign.involved(meeting.id, "ann")
        await s.delete(await s.get(Meeting, meeting.id))
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(ChatMessage)) == 0


async def test_refusals_store_nothing(engine):
    meeting = await make_meeting(engine, "acme")
    async with create_sessionmaker(engine)() as s:
        store = ChatStore(s, meeting.company_id)
        cases = [
            (state(), "p-mute", None, "permission_missing"),          # chat disabled for this participant
            (state(), "p-wait", None, "actor_waiting"),
            (state(), "p-ann", "p-wait", "target_waiting"),
            (state(), "p-ann", "p-gone", "unknown_participant"),
            (state(), "p-gone", None, "unknown_participant"),
            (state(chat_enabled=False), "p-ann", None, "chat_disabled"),  # chat disabled for the room
            (state(chat_enabled=False), "p-ann", "p-bob", "chat_disabled"),
            (state(ended=True), "p-ann", None, "meeting_ended"),
        ]
        for st_, sender, recipient, code in cases:
            with pytest.raises(ChatRefused) as refused:
                await send(store, st_, meeting.id, sender, "hello", recipient=recipient, at=T0)
            assert refused.value.code == code and refused.value.status == 403
        with pytest.raises(Invalid) as invalid:
            await send(store, state(), meeting.id, "p-ann", "a\x00b", at=T0)
        assert invalid.value.code == "invalid_chat_text" and invalid.value.status == 422
        assert await s.scalar(select(func.count()).select_from(ChatMessage)) == 0
        # With room chat off, moderators still send, to everyone and one-to-one.
        await send(store, state(chat_enabled=False), meeting.id, "p-org", "still here", at=T0)
        await send(store, state(chat_enabled=False), meeting.id, "p-org", "and you", recipient="p-mute", at=T0)
        assert (await store.history(meeting.id, "mute")).total == 2  # receiving is never restricted


# --- REST ------------------------------------------------------------------------------------


async def chat_meeting(world, client):  # type: ignore[no-untyped-def]
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    bob = await world.user(admin, name="Bob")
    outsider = await world.user(admin, [P.LIST_ALL_ROOMS, P.CREATE_ROOM])
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Board"})).json()
    async with world.context() as ctx:
        meeting = Meeting(company_id=admin.company_id, room_id=room["id"], opened_by=ann.id, started_at=T0)
        ctx.session.add(meeting)
        await ctx.session.flush()
        recorder = AttendanceRecorder(ctx.session, admin.company_id)
        await recorder.record(meeting.id, ann.id, "Ann", K.JOINED, T0, participant="pa")
        await recorder.record(meeting.id, bob.id, "Bob", K.JOINED, T0, participant="pb")
        s = MeetingState(participants=(
            Participant("pa", ann.id, registered=True, role=Role.ORGANIZER, capabilities=ALL_CAPABILITIES),
            Participant("pb", bob.id, registered=True, joined_at=1, capabilities=ALL_CAPABILITIES),
            Participant("pg", "guest-key", registered=False, joined_at=2, capabilities=ALL_CAPABILITIES)))
        store = ChatStore(ctx.session, admin.company_id)
        names = {"pa": "Ann", "pb": "Bob", "pg": "Guest"}
        await send(store, s, meeting.id, "pa", "hello <everyone>", at=T0, names=names)
        await send(store, s, meeting.id, "pa", "ann to bob", recipient="pb", at=T0, names=names)
        await send(store, s, meeting.id, "pg", "guest to ann", recipient="pa", at=T0, names=names)
        await send(store, s, meeting.id, "pb", "bob to all", at=T0, names=names)
        await ctx.session.commit()
        meeting_id = meeting.id
    return admin, ann, bob, outsider, meeting_id


async def test_history_endpoint_shows_each_caller_what_they_may_see(world, client):
    admin, ann, bob, outsider, meeting_id = await chat_meeting(world, client)
    path = f"{V1}/meetings/{meeting_id}/chat"

    async def texts(caller, **params):  # type: ignore[no-untyped-def]
        response = await client.get(path, headers=caller.headers, params=params)
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["items"]]

    assert await texts(ann) == ["hello <everyone>", "ann to bob", "guest to ann", "bob to all"]
    assert await texts(bob) == ["hello <everyone>", "ann to bob", "bob to all"]
    assert await texts(await world.api_key(admin, bob)) == ["hello <everyone>", "ann to bob", "bob to all"]
    assert await texts(admin) == ["hello <everyone>", "bob to all"]  # administrators never read private ones
    assert await texts(ann, limit=2, offset=1) == ["ann to bob", "guest to ann"]
    body = (await client.get(path, headers=ann.headers)).json()
    assert body["total"] == 4 and body["offset"] == 0 and body["limit"] == 50
    private = body["items"][2]
    # Ann lacks Show all usernames: others appear by their arrival label, she sees her own name
    assert private["sender"] == {"person": "guest-key", "participant": "pg", "name": "Participant 3"}
    assert private["recipient"] == {"person": ann.id, "participant": "pa", "name": "Ann"}
    assert body["items"][0]["recipient"] is None and body["items"][0]["sent_at"] == "2030-01-01T09:00:00Z"
    assert await texts(ann, after_id=body["items"][2]["id"]) == ["bob to all"]


async def test_history_endpoint_refuses_outsiders_and_hides_other_companies(world, client):
    admin, ann, bob, outsider, meeting_id = await chat_meeting(world, client)
    path = f"{V1}/meetings/{meeting_id}/chat"
    response = await client.get(path, headers=outsider.headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_a_participant"
    foreign = await world.company()
    for caller in (foreign, await world.api_key(foreign, foreign)):
        response = await client.get(path, headers=caller.headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=ann.headers, params={"limit": 0})).status_code == 422
