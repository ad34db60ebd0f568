"""GET /meetings/{meeting_id}/chat: what each caller sees, pagination, names as the caller may see
them, and refused callers."""

from datetime import UTC, datetime

from control.domain.attendance import EventKind as K
from control.domain.permissions import Permission as P
from control.services.attendance import AttendanceRecorder
from control.store.models import ChatMessage, Meeting
from control.store.repositories.chat import ChatMessages

V1 = "/api/v1"
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


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
        messages = ChatMessages(ctx.session, admin.company_id)
        speakers = {"pa": (ann.id, "Ann"), "pb": (bob.id, "Bob"), "pg": ("guest-key", "Guest")}

        async def say(sender: str, text: str, to: str | None = None) -> None:
            await messages.add(
                ChatMessage(
                    meeting_id=meeting.id,
                    sent_at=T0,
                    sender_person=speakers[sender][0],
                    sender_participant=sender,
                    sender_name=speakers[sender][1],
                    recipient_person=speakers[to][0] if to else None,
                    recipient_participant=to,
                    recipient_name=speakers[to][1] if to else None,
                    text=text,
                )
            )

        await say("pa", "hello <everyone>")
        await say("pa", "ann to bob", "pb")
        await say("pg", "guest to ann", "pa")
        await say("pb", "bob to all")
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
