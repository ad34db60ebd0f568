"""Deleting a room while its meeting runs (found by a CI run of the churn test, which deletes each
example's room: every later attendance record of the still-running meeting failed its foreign key).
The meeting ends first, for everyone, with the reason `room_deleted`, its attendance recorded; one
running on another replica ends on the notice, and what it records after the room is gone is
dropped with a log line, not an error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from meeting_fakes import FakeRegistry, Socket

from control.meetings.service import MeetingService
from control.replicas import notice_actions, notices
from control.replicas.notices import Notice
from control.services.attendance import AttendanceObserver

V1 = "/api/v1"


@pytest.fixture
async def service(app: Any) -> AsyncIterator[MeetingService]:
    real = app.state.meetings
    app.state.meetings = ours = MeetingService(app.state.context, FakeRegistry())  # type: ignore[arg-type]
    yield ours
    app.state.meetings = real
    await ours.close()


async def test_a_deleted_rooms_meeting_ends_first_and_only_for_who_may_delete_it(world, client, service) -> None:
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Doomed"})).json()
    put = await client.put(
        f"{V1}/rooms/{room['id']}/access/{ann.id}", headers=admin.headers, json={"role": "participant"}
    )
    assert put.status_code == 204
    sockets = Socket(), Socket()
    live, _ = await service.join(admin.token, room["id"], sockets[0].link())
    await service.join(ann.token, room["id"], sockets[1].link())

    # a participant may not delete the room: refused before anything ends
    refused = await client.delete(f"{V1}/rooms/{room['id']}", headers=ann.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "room_administration_required"
    assert not live.state.ended

    deleted = await client.delete(f"{V1}/rooms/{room['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert live.state.ended
    for socket in sockets:
        assert socket.of("disconnected")[-1]["reason"] == "room_deleted"
    assert (await client.get(f"{V1}/rooms/{room['id']}", headers=admin.headers)).status_code == 404


async def test_a_meeting_on_another_replica_ends_on_the_notice_and_late_records_are_dropped(
    world, client, service, app
) -> None:
    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Elsewhere"})).json()
    socket = Socket()
    live, pid = await service.join(admin.token, room["id"], socket.link())
    # the room is deleted through another replica (one that runs no meeting): this one's meeting's
    # rows are gone, and it hears of it by the notice
    app.state.meetings = MeetingService(app.state.context, FakeRegistry())  # type: ignore[arg-type]
    try:
        assert (await client.delete(f"{V1}/rooms/{room['id']}", headers=admin.headers)).status_code == 204
    finally:
        await app.state.meetings.close()
        app.state.meetings = service
    assert not live.state.ended
    notice_actions.received(service, notices.payload(Notice.END_ROOM, "another room"))
    notice_actions.received(service, notices.payload(Notice.END_ROOM, room["id"]))
    for _ in range(200):
        if live.state.ended:
            break
        await asyncio.sleep(0.02)
    assert live.state.ended and socket.of("disconnected")[-1]["reason"] == "room_deleted"
    # what the attendance observer records of a meeting whose room is gone: dropped, not raised
    observer = AttendanceObserver(app.state.context)
    await observer.participant_left(live.info(), pid, "u:" + admin.id, "left")
    await observer.meeting_ended(live.info(), "room_deleted")
    assert notices.parse(notices.payload(Notice.END_ROOM, "r1")) == (Notice.END_ROOM, "r1")
