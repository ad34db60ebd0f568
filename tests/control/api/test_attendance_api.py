"""GET /meetings/{meeting_id}/attendance: JSON and CSV, permitted and refused callers, tenant scoping."""

import csv
import io
from datetime import UTC, datetime, timedelta

from control.domain.attendance import EventKind as K
from control.domain.permissions import Permission as P
from control.domain.roles import Role, Source
from control.services.attendance import CSV_COLUMNS, AttendanceRecorder
from control.store.models import Meeting

V1 = "/api/v1"
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def t(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


async def setup_meeting(world, client, *, ended: bool = True):  # type: ignore[no-untyped-def]
    """A meeting with an organizer, a moderator who waited, and a participant; a running one started an hour
    ago, an ended one on 2030-01-01 at 09:00 for 300 s."""
    base = T0 if ended else datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def t(seconds: float) -> datetime:
        return base + timedelta(seconds=seconds)

    admin = await world.company()
    opener = await world.user(admin)
    moderator = await world.user(admin, name="Mo")
    plain = await world.user(admin, [P.LIST_ALL_ROOMS, P.CREATE_ROOM, P.ADMINISTRATE_USERS])
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Board"})).json()
    async with world.context() as ctx:
        meeting = Meeting(
            company_id=admin.company_id,
            room_id=room["id"],
            opened_by=opener.id,
            started_at=base,
            ended_at=t(300) if ended else None,
        )
        ctx.session.add(meeting)
        await ctx.session.flush()
        r = AttendanceRecorder(ctx.session, admin.company_id)
        await r.record(meeting.id, opener.id, "Opener", K.JOINED, t(0), participant="p1")
        await r.record(meeting.id, opener.id, "", K.ROLE, t(0), participant="p1", role=Role.ORGANIZER)
        await r.record(meeting.id, opener.id, "", K.SOURCE_ON, t(10), participant="p1", source=Source.CAMERA)
        await r.record(meeting.id, moderator.id, "=cmd|' /C calc'!A0", K.WAITING, t(20), participant="p2")
        await r.record(meeting.id, moderator.id, "", K.ADMITTED, t(50), participant="p2")
        await r.record(meeting.id, moderator.id, "", K.ROLE, t(60), participant="p2", role=Role.MODERATOR)
        await r.record(meeting.id, moderator.id, "", K.LEFT, t(200), participant="p2")
        await r.record(meeting.id, plain.id, "Plain", K.JOINED, t(100), participant="p3")
        await ctx.session.commit()
        meeting_id = meeting.id
    return admin, opener, moderator, plain, meeting_id


async def test_json_report_for_an_administrator(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client)
    response = await client.get(f"{V1}/meetings/{meeting_id}/attendance", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ended_at"] == "2030-01-01T09:05:00Z" and body["until"] == body["ended_at"]
    assert body["present"] == []  # ended
    people = {p["person"]: p for p in body["people"]}
    assert [p["person"] for p in body["people"]] == [opener.id, moderator.id, plain.id]
    o = people[opener.id]
    assert o["role"] == "organizer" and o["total_seconds"] == 300 and o["camera_seconds"] == 290
    assert o["sessions"] == [{"joined_at": "2030-01-01T09:00:00Z", "left_at": None}]
    m = people[moderator.id]
    assert m["total_seconds"] == 150 and m["waiting_seconds"] == 30 and m["microphone_seconds"] == 0
    assert m["sessions"] == [{"joined_at": "2030-01-01T09:00:50Z", "left_at": "2030-01-01T09:03:20Z"}]


async def test_csv_report(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client)
    response = await client.get(
        f"{V1}/meetings/{meeting_id}/attendance", headers=admin.headers, params={"format": "csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f"attendance-{meeting_id}.csv" in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert tuple(reader.fieldnames or ()) == tuple(CSV_COLUMNS)
    rows = list(reader)
    assert [r["person"] for r in rows] == [opener.id, moderator.id, plain.id]
    m = rows[1]
    assert m["name"] == "'=cmd|' /C calc'!A0"  # no formula for a spreadsheet
    assert float(m["total_seconds"]) == 150 and float(m["waiting_seconds"]) == 30 and m["joins"] == "1"
    assert m["first_joined_at"] == "2030-01-01T09:00:50Z" and m["last_left_at"] == "2030-01-01T09:03:20Z"
    assert m["sessions"] == "2030-01-01T09:00:50Z/2030-01-01T09:03:20Z" and m["present"] == "false"
    assert float(rows[0]["camera_seconds"]) == 290 and rows[0]["role"] == "organizer"


async def test_a_running_meeting_has_a_live_list(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client, ended=False)
    body = (await client.get(f"{V1}/meetings/{meeting_id}/attendance", headers=admin.headers)).json()
    assert body["ended_at"] is None
    assert [(p["person"], p["media"]) for p in body["present"]] == [(opener.id, ["camera"]), (plain.id, [])]
    assert body["people"][0]["present"] is True


async def test_who_may_read_the_report(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client)
    path = f"{V1}/meetings/{meeting_id}/attendance"
    rooms_admin = await world.user(admin, [P.ADMINISTRATE_ROOMS])
    for caller in (admin, rooms_admin, opener, moderator, await world.api_key(admin, moderator)):
        assert (await client.get(path, headers=caller.headers)).status_code == 200
    for caller in (plain, await world.user(admin), await world.api_key(admin, plain)):
        response = await client.get(path, headers=caller.headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_required"
        assert (await client.get(path, headers=caller.headers, params={"format": "csv"})).status_code == 403


async def test_a_room_moderator_may_read_the_report(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client)
    async with world.context() as ctx:
        from control.store.models import Meeting as M

        room_id = (await ctx.session.get(M, meeting_id)).room_id
    await client.put(f"{V1}/rooms/{room_id}/access/{plain.id}", headers=admin.headers, json={"role": "moderator"})
    assert (await client.get(f"{V1}/meetings/{meeting_id}/attendance", headers=plain.headers)).status_code == 200


async def test_another_company_gets_404(world, client):
    admin, opener, moderator, plain, meeting_id = await setup_meeting(world, client)
    foreign = await world.company()
    for caller in (foreign, await world.api_key(foreign, foreign)):
        response = await client.get(f"{V1}/meetings/{meeting_id}/attendance", headers=caller.headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert (await client.get(f"{V1}/meetings/{'0' * 32}/attendance", headers=admin.headers)).status_code == 404
    assert (await client.get(f"{V1}/meetings/nothex/attendance", headers=admin.headers)).status_code == 404
    assert (await client.get(f"{V1}/meetings/{meeting_id}/attendance")).status_code == 401
    bad = await client.get(f"{V1}/meetings/{meeting_id}/attendance", headers=admin.headers, params={"format": "xml"})
    assert bad.status_code == 422
