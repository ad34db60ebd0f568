"""Show all usernames, enforced by the server: every frame and REST answer that names other people is
built per recipient. Without the permission (and always for guests) others come as "Participant <n>"
with `name: null`; one's own entries keep the name. A guest's display name, entered at redemption, is
what others see, while the invitee's person key stays what bans and the audit log name."""

import secrets
from typing import Any

import pytest
from meeting_fakes import FakeRegistry, Socket
from sqlalchemy import select

from control.domain.moderation import Action, Command
from control.domain.permissions import Permission
from control.meetings.service import MeetingService
from control.store.models import AuditEvent, RoomRemoval

V1 = "/api/v1"


def names(participants: list[dict[str, Any]]) -> dict[str, tuple[str | None, str]]:
    return {p["id"]: (p["name"], p["label"]) for p in participants}


@pytest.fixture
async def meeting(world, client, monkeypatch):  # type: ignore[no-untyped-def]
    admin = await world.company()
    ann = await world.user(admin, name="Ann")  # no company permission
    nina = await world.user(admin, [Permission.SHOW_ALL_USERNAMES], name="Nina")
    mo = await world.user(admin, name="Mo")  # moderates the room, without Show all usernames
    room = (
        await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Names", "waiting_room": True})
    ).json()
    for user, role in ((ann, "participant"), (nina, "participant"), (mo, "moderator")):
        response = await client.put(
            f"{V1}/rooms/{room['id']}/access/{user.id}", headers=admin.headers, json={"role": role}
        )
        assert response.status_code == 204
    service = MeetingService(world.app.state.context, FakeRegistry())  # type: ignore[arg-type]
    monkeypatch.setattr(world.app.state, "meetings", service, raising=False)
    yield service, admin, ann, nina, mo, room
    await service.close()


async def redeem(client, admin, room, name: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    issued = (
        await client.post(
            f"{V1}/rooms/{room['id']}/invitations", headers=admin.headers, json={"invitee_name": "Gus Invitee"}
        )
    ).json()
    body = {"invitation": issued["invitation"], "browser": secrets.token_hex(16)}
    if name is not None:
        body["name"] = name
    response = await client.post(f"{V1}/invitation-redemptions", json=body)
    assert response.status_code == 200, response.text
    return {**response.json(), "invitation_secret": issued["invitation"], "browser": body["browser"]}


async def test_every_list_is_built_for_its_recipient(meeting, client, world) -> None:
    service, admin, ann, nina, mo, room = meeting
    sockets = {who: Socket() for who in ("admin", "mo", "ann", "nina", "guest")}
    live, admin_id = await service.join(admin.token, room["id"], sockets["admin"].link())
    _, mo_id = await service.join(mo.token, room["id"], sockets["mo"].link())
    _, ann_id = await service.join(ann.token, room["id"], sockets["ann"].link())
    guest = await redeem(client, admin, room, "  Gwen Guest  ")
    assert guest["name"] == "Gwen Guest" and guest["invitee_name"] == "Gus Invitee"
    _, guest_id = await service.join(guest["guest_token"], room["id"], sockets["guest"].link())

    # the waiting room, as each moderator may see it
    expected = {ann_id: ("Ann", "Ann"), guest_id: ("Gwen Guest", "Gwen Guest")}
    assert names(sockets["admin"].of("waiting-room")[-1]["waiting"]) == expected
    assert names(sockets["mo"].of("waiting-room")[-1]["waiting"]) == {
        ann_id: (None, "Participant 3"),
        guest_id: (None, "Participant 4"),
    }
    assert sockets["mo"].of("joined")[0]["names_visible"] is False
    assert sockets["admin"].of("joined")[0]["names_visible"] is True
    # a waiting guest's own entry keeps the name entered
    assert sockets["guest"].of("joined")[0]["you"]["name"] == "Gwen Guest"

    # a moderator without names acts on people by their ids and labels
    await service.act(live, mo_id, Command(Action.ADMIT, target=ann_id))
    await service.act(live, mo_id, Command(Action.ADMIT, target=guest_id))
    _, nina_id = await service.join(nina.token, room["id"], sockets["nina"].link())
    await service.act(live, admin_id, Command(Action.ADMIT, target=nina_id))

    everyone = {admin_id: "Admin", mo_id: "Mo", ann_id: "Ann", guest_id: "Gwen Guest", nina_id: "Nina"}
    numbers = {admin_id: 1, mo_id: 2, ann_id: 3, guest_id: 4, nina_id: 5}
    own = {"ann": ann_id, "guest": guest_id, "mo": mo_id}
    for who, pid in own.items():  # without Show all usernames: only their own name
        admitted = sockets[who].of("admitted")[-1]["participants"] if who != "mo" else None
        if admitted is not None:
            for p in admitted:
                assert (p["name"], p["label"]) == (
                    (everyone[p["id"]],) * 2 if p["id"] == pid else (None, f"Participant {numbers[p['id']]}")
                ), (who, p)
        for frame in sockets[who].of("participant-joined"):
            p = frame["participant"]
            assert p["name"] is None and p["label"] == f"Participant {numbers[p['id']]}", (who, p)
    for frame in sockets["admin"].of("participant-joined"):
        assert frame["participant"]["name"] == everyone[frame["participant"]["id"]]
    assert names(sockets["nina"].of("admitted")[-1]["participants"]) == {
        pid: (name, name) for pid, name in everyone.items()
    }

    # chat: from_name and to_name as each recipient may see them
    await service.chat(live, guest_id, "hello all", None)
    await service.chat(live, nina_id, "psst", ann_id)
    seen = {who: [(f["from_name"], f["to_name"]) for f in s.of("chat")] for who, s in sockets.items()}
    assert seen["admin"] == [("Gwen Guest", None)]
    assert seen["nina"] == [("Gwen Guest", None), ("Nina", "Ann")]
    assert seen["ann"] == [("Participant 4", None), ("Participant 5", "Ann")]
    assert seen["guest"] == [("Gwen Guest", None)]
    assert seen["mo"] == [("Participant 4", None)]

    # REST: the meeting and the room list
    for actor, visible in ((admin, True), (nina, True), (ann, False), (mo, False)):
        response = await client.get(f"{V1}/meetings/{live.id}", headers=actor.headers)
        assert response.status_code == 200, response.text
        got = names(response.json()["participants"])
        for pid, name in everyone.items():
            if visible or pid == own.get({ann: "ann", mo: "mo"}.get(actor, "")):
                assert got[pid] == (name, name)
            else:
                assert got[pid] == (None, f"Participant {numbers[pid]}")
        rooms = (await client.get(f"{V1}/rooms", headers=actor.headers)).json()["items"]
        assert [r["online"] for r in rooms if r["id"] == room["id"]] == [5]
    history = (await client.get(f"{V1}/meetings/{live.id}/chat", headers=admin.headers)).json()
    assert history["items"] == [] or all(m["sender"]["name"] for m in history["items"])

    # the guest's person key stays the invitee's: a ban names the invitation, not the display name
    await service.act(live, admin_id, Command(Action.BAN, target=guest_id))
    async with world.context() as ctx:
        bans = (await ctx.session.scalars(select(RoomRemoval).where(RoomRemoval.room_id == room["id"]))).all()
        assert [b.person for b in bans] == [f"g:{guest['invitation_id']}"]
        audit = (await ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.ban"))).all()
        assert audit[-1].after["target_person"] == f"g:{guest['invitation_id']}"
    listed = {
        who: (await client.get(f"{V1}/rooms/{room['id']}/bans", headers=actor.headers)).json()["items"]
        for who, actor in (("admin", admin), ("mo", mo))
    }
    assert [(b["person"], b["name"]) for b in listed["admin"]] == [(f"g:{guest['invitation_id']}", "Gus Invitee")]
    assert [(b["person"], b["name"]) for b in listed["mo"]] == [(f"g:{guest['invitation_id']}", None)]


async def test_a_guest_name_is_validated_at_redemption(meeting, client) -> None:
    service, admin, ann, nina, mo, room = meeting
    issued = (
        await client.post(f"{V1}/rooms/{room['id']}/invitations", headers=admin.headers, json={"invitee_name": "Gus"})
    ).json()
    browser = secrets.token_hex(16)
    for bad in ("", "   ", "x" * 65, "bell\x07", "two\nlines", "tab\tbed", "nul\x00", "sep\u2028arator", 7):
        response = await client.post(
            f"{V1}/invitation-redemptions", json={"invitation": issued["invitation"], "browser": browser, "name": bad}
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_failed"
    ok = await client.post(
        f"{V1}/invitation-redemptions",
        json={"invitation": issued["invitation"], "browser": browser, "name": " Zoë 🙂 " + "y" * 58},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["name"] == "Zoë 🙂 " + "y" * 58
    default = await client.post(
        f"{V1}/invitation-redemptions", json={"invitation": issued["invitation"], "browser": browser}
    )
    assert default.json()["name"] == "Gus"


async def test_chat_history_hides_other_names_without_the_permission(world, client) -> None:
    from control.services.attendance import AttendanceRecorder, EventKind
    from control.store.models import ChatMessage, Meeting
    from control.store.repositories.chat import ChatMessages

    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "History"})).json()
    async with world.context() as ctx:
        meeting = Meeting(
            company_id=admin.company_id, room_id=room["id"], opened_by=admin.id, started_at=ctx.now(), worker_id="w"
        )
        ctx.session.add(meeting)
        await ctx.session.flush()
        recorder = AttendanceRecorder(ctx.session, admin.company_id)  # arrivals number the labels
        await recorder.record(meeting.id, f"u:{admin.id}", "Admin", EventKind.JOINED, ctx.now(), participant="p1")
        await recorder.record(meeting.id, f"u:{ann.id}", "Ann", EventKind.JOINED, ctx.now(), participant="p2")
        messages = ChatMessages(ctx.session, admin.company_id)
        await messages.add(
            ChatMessage(
                meeting_id=meeting.id,
                sender_person=f"u:{admin.id}",
                sender_participant="p1",
                sender_name="Admin",
                text="hi",
                sent_at=ctx.now(),
            )
        )
        await messages.add(
            ChatMessage(
                meeting_id=meeting.id,
                sender_person=f"u:{admin.id}",
                sender_participant="p1",
                sender_name="Admin",
                text="psst",
                sent_at=ctx.now(),
                recipient_person=f"u:{ann.id}",
                recipient_participant="p2",
                recipient_name="Ann",
            )
        )
        await ctx.session.commit()
        meeting_id = meeting.id
    path = f"{V1}/meetings/{meeting_id}/chat"

    def speakers(page: dict[str, Any]) -> list[tuple[str, str | None]]:
        return [(m["sender"]["name"], m["recipient"]["name"] if m["recipient"] else None) for m in page["items"]]

    assert speakers((await client.get(path, headers=admin.headers)).json()) == [("Admin", None), ("Admin", "Ann")]
    hidden = speakers((await client.get(path, headers=ann.headers)).json())
    assert hidden == [("Participant 1", None), ("Participant 1", "Ann")]
