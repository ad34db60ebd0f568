"""Chat along the path production runs: the signaling `chat` frame calls `MeetingService.chat`, which
checks policy and text and hands the message to the app's observers (attendance, then chat); the
chat observer stores it, and everyone addressed receives the stored message, as the history then
shows it."""

import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from control.domain.moderation import Action, Command
from control.meetings.service import MeetingError, MeetingService
from control.services.chat import Message, Speaker
from control.store.models import ChatMessage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "meetings"))
from meeting_fakes import FakeRegistry, Socket

V1 = "/api/v1"


@pytest.fixture
async def meeting(world, client):  # type: ignore[no-untyped-def]
    """The organizer (admin) in the meeting with Ann and Bob admitted, Cy waiting; the app's observers."""
    admin = await world.company()
    people = {name: await world.user(admin, name=name) for name in ("Ann", "Bob", "Cy")}
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Chat", "waiting_room": True})).json()
    for user in people.values():
        assert (
            await client.put(
                f"{V1}/rooms/{room['id']}/access/{user.id}", headers=admin.headers, json={"role": "participant"}
            )
        ).status_code == 204
    service = MeetingService(world.app.state.context, FakeRegistry())  # type: ignore[arg-type]
    for observer in world.app.state.meetings.observers:  # as the app registers them
        service.add_observer(observer)
    sockets = {who: Socket() for who in ("admin", *people)}
    live, admin_id = await service.join(admin.token, room["id"], sockets["admin"].link())
    ids = {"admin": admin_id}
    for name, user in people.items():
        _, ids[name] = await service.join(user.token, room["id"], sockets[name].link())
        if name != "Cy":
            await service.act(live, admin_id, Command(Action.ADMIT, target=ids[name]))
    yield service, live, admin, people, ids, sockets
    await service.close()


async def stored(world, meeting_id: str) -> int:  # type: ignore[no-untyped-def]
    async with world.context() as ctx:
        return (
            await ctx.session.scalar(
                select(func.count()).select_from(ChatMessage).where(ChatMessage.meeting_id == meeting_id)
            )
            or 0
        )


async def test_a_message_is_stored_and_delivered_as_stored(meeting, world, client) -> None:
    service, live, admin, people, ids, sockets = meeting
    text = "hello <all> & 'you' 👋\nsecond line"
    await service.chat(live, ids["admin"], text, None)
    await service.chat(live, ids["Ann"], "psst", ids["Bob"])

    firsts = [s.of("chat")[0] for who, s in sockets.items() if who != "Cy"]
    unnamed = [{k: v for k, v in f.items() if not k.endswith("_name")} for f in firsts]
    assert len(firsts) == 3 and all(f == unnamed[0] for f in unnamed)  # names as each viewer may see them
    assert sockets["Cy"].of("chat") == []  # the waiting room gets nothing
    assert [f["text"] for f in sockets["admin"].of("chat")] == [text]  # one-to-one: sender and recipient only
    assert [f["text"] for f in sockets["Ann"].of("chat")] == [text, "psst"]
    assert [f["text"] for f in sockets["Bob"].of("chat")] == [text, "psst"]

    rows = (await client.get(f"{V1}/meetings/{live.id}/chat", headers=admin.headers)).json()["items"]
    assert len(rows) == 1 and await stored(world, live.id) == 2
    history = Message(
        rows[0]["id"], rows[0]["meeting_id"], rows[0]["sent_at"], Speaker(**rows[0]["sender"]), None, rows[0]["text"]
    )
    assert {"type": "chat", **history.frame()} == sockets["admin"].of("chat")[0]
    assert history.sender == Speaker(f"u:{admin.id}", ids["admin"], "Admin") and history.meeting_id == live.id
    ann = people["Ann"]
    private = (await client.get(f"{V1}/meetings/{live.id}/chat", headers=ann.headers)).json()["items"][1]
    assert private["sender"] == {"person": f"u:{ann.id}", "participant": ids["Ann"], "name": "Ann"}
    assert private["recipient"]["participant"] == ids["Bob"] and private["text"] == "psst"
    assert sockets["Ann"].of("chat")[1] == {
        "type": "chat",
        "id": private["id"],
        "from": ids["Ann"],
        "from_name": "Ann",
        "to": ids["Bob"],
        "to_name": "Participant 3",
        "text": "psst",
        "at": private["sent_at"],
    }  # Ann lacks Show all usernames


async def test_refused_messages_reach_nobody_and_are_not_stored(meeting, world) -> None:
    service, live, admin, people, ids, sockets = meeting

    async def refused(sender: str, text: str = "hello", to: str | None = None) -> tuple[str, int]:
        with pytest.raises(MeetingError) as error:
            await service.chat(live, ids[sender], text, ids[to] if to else None)
        return error.value.code, error.value.status

    assert await refused("Cy") == ("actor_waiting", 403)
    assert await refused("Ann", to="Cy") == ("target_waiting", 409)
    assert await refused("Ann", "a\x00b") == ("invalid_chat_text", 422)
    assert await refused("Ann", " \n ") == ("invalid_chat_text", 422)
    await service.act(live, ids["admin"], Command(Action.DISABLE_CHAT_PARTICIPANT, target=ids["Ann"]))
    assert await refused("Ann") == ("permission_missing", 403)
    await service.act(live, ids["admin"], Command(Action.ENABLE_CHAT_PARTICIPANT, target=ids["Ann"]))
    await service.act(live, ids["admin"], Command(Action.DISABLE_CHAT_ROOM))
    assert await refused("Bob") == ("chat_disabled", 403)
    assert await refused("Bob", to="Ann") == ("chat_disabled", 403)
    assert all(s.of("chat") == [] for s in sockets.values()) and await stored(world, live.id) == 0

    # with room chat off, moderators still send, to everyone and one-to-one
    await service.chat(live, ids["admin"], "still here", None)
    await service.chat(live, ids["admin"], "and you", ids["Bob"])
    assert [f["text"] for f in sockets["Bob"].of("chat")] == ["still here", "and you"]
    assert await stored(world, live.id) == 2


def test_a_message_renders_one_shape_for_both_answers() -> None:
    sender, recipient = Speaker("u:a", "p1", "Ann"), Speaker("g:b", "p2", "Bea")
    message = Message(7, "m1", "2030-01-01T09:00:00Z", sender, recipient, "hi")
    assert message.item() == {
        "id": 7,
        "meeting_id": "m1",
        "sent_at": "2030-01-01T09:00:00Z",
        "sender": {"person": "u:a", "participant": "p1", "name": "Ann"},
        "recipient": {"person": "g:b", "participant": "p2", "name": "Bea"},
        "text": "hi",
    }
    assert message.frame() == {
        "id": 7,
        "from": "p1",
        "from_name": "Ann",
        "to": "p2",
        "to_name": "Bea",
        "text": "hi",
        "at": "2030-01-01T09:00:00Z",
    }
    to_all: dict[str, Any] = Message(8, "m1", "2030-01-01T09:00:01Z", sender, None, "all").frame()
    assert (to_all["to"], to_all["to_name"]) == (None, None)
