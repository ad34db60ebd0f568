"""Observers hear every committed change through typed hooks, in commit order; a hook an observer
does not override does nothing, and a failing observer stops no one."""

from __future__ import annotations

from typing import Any

from meeting_fakes import Socket

from control.domain.moderation import Action, Command
from control.meetings.observers import MeetingInfo, MeetingObserver, Observers

INFO = MeetingInfo("m", "r", "c")


async def test_hooks_arrive_in_commit_order(meetings) -> None:
    service, recorder, admin, ann = meetings.service, meetings.recorder, meetings.admin, meetings.ann
    organizer, guest = Socket(), Socket()
    live, oid = await service.join(admin.token, meetings.room["id"], organizer.link())
    _, aid = await service.join(ann.token, meetings.room["id"], guest.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.act(live, oid, Command(Action.APPOINT_MODERATOR, target=aid))
    await service.act(live, oid, Command(Action.SEND_BACK, target=aid))
    await service.observed()
    assert [c[0:2] for c in recorder.calls] == [
        ("participant_joined", oid),
        ("role_changed", oid),
        ("participant_waiting", aid),
        ("role_changed", aid),
        ("participant_admitted", aid),
        ("role_changed", aid),
        ("participant_waiting", aid),
        ("role_changed", aid),
    ]
    assert recorder.calls[0][2:] == (f"u:{admin.id}", "Admin")
    assert recorder.calls[2][2:] == (f"u:{ann.id}", "Ann")  # an arrival in the waiting room names the person
    assert [c[2] for c in recorder.calls if c[0] == "role_changed"] == [
        "organizer",
        "participant",
        "moderator",
        "participant",
    ]


class Roles(MeetingObserver):
    """Overrides one hook only."""

    def __init__(self) -> None:
        self.roles: list[str] = []

    async def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        self.roles.append(role)


class Broken(MeetingObserver):
    async def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        raise RuntimeError("broken observer")

    async def chat_message(
        self, meeting: MeetingInfo, sender_id: str, sender_name: str, to: str | None, text: str
    ) -> dict[str, Any] | None:
        raise RuntimeError("broken observer")


class Store(MeetingObserver):
    async def chat_message(
        self, meeting: MeetingInfo, sender_id: str, sender_name: str, to: str | None, text: str
    ) -> dict[str, Any] | None:
        return {
            "id": 1,
            "from": sender_id,
            "from_name": sender_name,
            "to": to,
            "to_name": None,
            "text": text,
            "at": "2026-01-01T00:00:00+00:00",
        }


async def test_unimplemented_hooks_do_nothing_and_failures_stop_no_one(caplog) -> None:
    observers = Observers()
    roles = Roles()
    observers.add(Broken())
    observers.add(roles)
    observers.add(Store())
    observers.participant_joined(INFO, "p1", "u:1", "Ann")  # nobody overrides it
    observers.role_changed(INFO, "p1", "moderator")
    observers.role_changed(INFO, "p1", "participant")
    await observers.observed()
    assert roles.roles == ["moderator", "participant"]
    assert "meeting observer role_changed failed" in caplog.text
    message = await observers.chat_message(INFO, "p1", "Ann", None, "hi")
    assert message is not None and message["id"] == 1
    assert await Observers().chat_message(INFO, "p1", "Ann", None, "hi") is None
    observers.close()


async def test_without_observers_nothing_is_queued() -> None:
    observers = Observers()
    observers.role_changed(INFO, "p1", "moderator")
    await observers.observed()
    assert not observers
