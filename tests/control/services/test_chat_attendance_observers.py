"""The observers the meeting service calls (control.meetings.observers hooks): they record attendance and
persist chat, and the REST endpoints then show both to users known by u:<user id> person keys."""

from datetime import UTC, datetime, timedelta

from control.meetings.observers import MeetingInfo
from control.services.attendance import AttendanceObserver
from control.services.chat import ChatObserver
from control.store.models import Meeting

V1 = "/api/v1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_observers_feed_the_report_and_the_chat(world, client, monkeypatch):
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    bob = await world.user(admin, name="Bob")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Board"})).json()
    clock = Clock()
    make_context = world.app.state.context

    def context():  # type: ignore[no-untyped-def]
        class Wrapped:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                self.inner = make_context()
                ctx = await self.inner.__aenter__()
                ctx.clock = clock
                return ctx

            async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
                return await self.inner.__aexit__(*exc)

        return Wrapped()

    async with world.context() as ctx:
        meeting = Meeting(company_id=admin.company_id, room_id=room["id"], opened_by=ann.id, started_at=clock.now)
        ctx.session.add(meeting)
        await ctx.session.commit()
        info = MeetingInfo(meeting_id=meeting.id, room_id=room["id"], company_id=admin.company_id)
    attendance, chat = AttendanceObserver(context), ChatObserver(context)

    await attendance.participant_joined(info, "pa", f"u:{ann.id}", "Ann")
    await attendance.role_changed(info, "pa", "organizer")
    await attendance.participant_joined(info, "pg", "g:inv1", "Guest")
    await attendance.participant_waiting(info, "pg")
    clock.advance(10)
    await attendance.source_changed(info, "pa", "microphone", True)
    await attendance.participant_joined(info, "pb", f"u:{bob.id}", "Bob")
    clock.advance(20)
    await attendance.participant_admitted(info, "pg")
    sent = await chat.chat_message(info, "pa", "Ann", None, "hello all")
    assert sent["from"] == "pa" and sent["to"] is None and sent["text"] == "hello all" and sent["at"].endswith("Z")
    await chat.chat_message(info, "pg", "Guest", "pa", "guest to ann")
    clock.advance(30)
    await attendance.participant_left(info, "pb", f"u:{bob.id}", "left")
    await attendance.meeting_ended(info, "meeting_ended")
    async with world.context() as ctx:
        m = await ctx.session.get(Meeting, meeting.id)
        m.ended_at = clock.now
        await ctx.session.commit()

    report = (await client.get(f"{V1}/meetings/{meeting.id}/attendance", headers=ann.headers)).json()
    people = {p["person"]: p for p in report["people"]}
    assert people[f"u:{ann.id}"]["total_seconds"] == 60 and people[f"u:{ann.id}"]["microphone_seconds"] == 50
    assert people[f"u:{ann.id}"]["role"] == "organizer"
    assert people["g:inv1"]["total_seconds"] == 30 and people["g:inv1"]["waiting_seconds"] == 30
    assert people[f"u:{bob.id}"]["total_seconds"] == 50 and people[f"u:{bob.id}"]["sessions"][0]["left_at"]
    assert all(p["sessions"][-1]["left_at"] is not None for p in people.values())  # the end closed every stay
    assert (await client.get(f"{V1}/meetings/{meeting.id}/attendance", headers=bob.headers)).status_code == 403

    ann_chat = (await client.get(f"{V1}/meetings/{meeting.id}/chat", headers=ann.headers)).json()["items"]
    assert [(m["text"], m["sender"]["person"]) for m in ann_chat] == [
        ("hello all", f"u:{ann.id}"),
        ("guest to ann", "g:inv1"),
    ]
    assert ann_chat[1]["recipient"]["person"] == f"u:{ann.id}" and ann_chat[1]["recipient"]["name"] == "Ann"
    bob_chat = (await client.get(f"{V1}/meetings/{meeting.id}/chat", headers=bob.headers)).json()["items"]
    assert [m["text"] for m in bob_chat] == ["hello all"]  # bob took part: sees what went to everyone
